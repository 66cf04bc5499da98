package cgroups

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// blkioWeightToIO maps the v1 blkio weight range [10, 1000] onto io.weight [1, 10000].
func blkioWeightToIO(w uint16) uint64 {
	if w == 0 {
		return 0
	}
	return 1 + (uint64(w)-10)*9999/990
}

// ioWeightWrite picks the file and value for a weight: BFQ takes the blkio-style weight in
// io.bfq.weight, otherwise io.weight takes the converted one. dev is "" for the default.
func (m *v2Manager) ioWeightWrite(dev string, w uint16) (string, string, error) {
	if w < 10 || w > 1000 {
		return "", "", fmt.Errorf("weight %d is not in the range 10-1000", w)
	}
	if fileExists(m.dir, "io.bfq.weight") {
		if dev == "" {
			return "io.bfq.weight", strconv.Itoa(int(w)), nil
		}
		return "io.bfq.weight", dev + " " + strconv.Itoa(int(w)), nil
	}
	if !fileExists(m.dir, "io.weight") {
		return "", "", fmt.Errorf("io.weight and io.bfq.weight not available")
	}
	v := strconv.FormatUint(blkioWeightToIO(w), 10)
	if dev == "" {
		return "io.weight", "default " + v, nil
	}
	return "io.weight", dev + " " + v, nil
}

func (m *v2Manager) setIO(r *specs.LinuxResources) error {
	b := r.BlockIO
	if !blockIORequested(b) {
		return nil
	}
	// A weight of 0 means "not set", as runc reads it: docker always sends blockIO.weight 0.
	if b.LeafWeight != nil && *b.LeafWeight != 0 {
		return fmt.Errorf("cgroup: blockIO.leafWeight: not supported on cgroup v2")
	}
	if err := m.need("blockIO", "io"); err != nil {
		return err
	}
	if b.Weight != nil && *b.Weight != 0 {
		f, v, err := m.ioWeightWrite("", *b.Weight)
		if err != nil {
			return resourceError("blockIO.weight", err)
		}
		if err := writeFile(m.dir, f, v); err != nil {
			return resourceError("blockIO.weight", err)
		}
	}
	for _, wd := range b.WeightDevice {
		if wd.LeafWeight != nil && *wd.LeafWeight != 0 {
			return fmt.Errorf("cgroup: blockIO.weightDevice.leafWeight: not supported on cgroup v2")
		}
		if wd.Weight == nil || *wd.Weight == 0 {
			continue
		}
		f, v, err := m.ioWeightWrite(fmt.Sprintf("%d:%d", wd.Major, wd.Minor), *wd.Weight)
		if err != nil {
			return resourceError("blockIO.weightDevice", err)
		}
		if err := writeFile(m.dir, f, v); err != nil {
			return resourceError("blockIO.weightDevice", err)
		}
	}
	throttles := []struct {
		resource, key string
		devs          []specs.LinuxThrottleDevice
	}{
		{"blockIO.throttleReadBpsDevice", "rbps", b.ThrottleReadBpsDevice},
		{"blockIO.throttleWriteBpsDevice", "wbps", b.ThrottleWriteBpsDevice},
		{"blockIO.throttleReadIOPSDevice", "riops", b.ThrottleReadIOPSDevice},
		{"blockIO.throttleWriteIOPSDevice", "wiops", b.ThrottleWriteIOPSDevice},
	}
	for _, t := range throttles {
		for _, d := range t.devs {
			if err := writeFile(m.dir, "io.max", ioMaxLine(d, t.key)); err != nil {
				return resourceError(t.resource, err)
			}
		}
	}
	return nil
}

// ioMaxLine renders one throttle for io.max; a rate of 0 removes the limit.
func ioMaxLine(d specs.LinuxThrottleDevice, key string) string {
	v := strconv.FormatUint(d.Rate, 10)
	if d.Rate == 0 {
		v = "max"
	}
	return fmt.Sprintf("%d:%d %s=%s", d.Major, d.Minor, key, v)
}

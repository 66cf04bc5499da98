package cgroups

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// blkioFiles picks the weight files. With the BFQ scheduler the kernel only offers the
// blkio.bfq.* names; CFQ kernels offered blkio.weight and blkio.leaf_weight.
func blkioWeightFile(dir string, device bool) (string, bool) {
	plain, bfq := "blkio.weight", "blkio.bfq.weight"
	if device {
		plain, bfq = "blkio.weight_device", "blkio.bfq.weight_device"
	}
	if fileExists(dir, plain) {
		return plain, true
	}
	if fileExists(dir, bfq) {
		return bfq, true
	}
	return plain, false
}

func (m *v1Manager) setBlkio(r *specs.LinuxResources) error {
	b := r.BlockIO
	if !blockIORequested(b) {
		return nil
	}
	dir := m.path("blkio")
	if dir == "" {
		return fmt.Errorf("cgroup: blockIO: the blkio controller is not mounted")
	}
	if v := b.Weight; v != nil && *v != 0 {
		f, ok := blkioWeightFile(dir, false)
		if !ok {
			return errNotAvailable("blockIO.weight", "blkio.weight and blkio.bfq.weight")
		}
		if err := writeFile(dir, f, strconv.Itoa(int(*v))); err != nil {
			return resourceError("blockIO.weight", err)
		}
	}
	if v := b.LeafWeight; v != nil && *v != 0 {
		if !fileExists(dir, "blkio.leaf_weight") {
			return errNotAvailable("blockIO.leafWeight", "blkio.leaf_weight")
		}
		if err := writeFile(dir, "blkio.leaf_weight", strconv.Itoa(int(*v))); err != nil {
			return resourceError("blockIO.leafWeight", err)
		}
	}
	for _, wd := range b.WeightDevice {
		if wd.Weight != nil && *wd.Weight != 0 {
			f, ok := blkioWeightFile(dir, true)
			if !ok {
				return errNotAvailable("blockIO.weightDevice", "blkio.weight_device and blkio.bfq.weight_device")
			}
			if err := writeFile(dir, f, fmt.Sprintf("%d:%d %d", wd.Major, wd.Minor, *wd.Weight)); err != nil {
				return resourceError("blockIO.weightDevice", err)
			}
		}
		if wd.LeafWeight != nil && *wd.LeafWeight != 0 {
			if !fileExists(dir, "blkio.leaf_weight_device") {
				return errNotAvailable("blockIO.weightDevice.leafWeight", "blkio.leaf_weight_device")
			}
			if err := writeFile(dir, "blkio.leaf_weight_device", fmt.Sprintf("%d:%d %d", wd.Major, wd.Minor, *wd.LeafWeight)); err != nil {
				return resourceError("blockIO.weightDevice.leafWeight", err)
			}
		}
	}
	throttles := []struct {
		resource, file string
		devs           []specs.LinuxThrottleDevice
	}{
		{"blockIO.throttleReadBpsDevice", "blkio.throttle.read_bps_device", b.ThrottleReadBpsDevice},
		{"blockIO.throttleWriteBpsDevice", "blkio.throttle.write_bps_device", b.ThrottleWriteBpsDevice},
		{"blockIO.throttleReadIOPSDevice", "blkio.throttle.read_iops_device", b.ThrottleReadIOPSDevice},
		{"blockIO.throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", b.ThrottleWriteIOPSDevice},
	}
	for _, t := range throttles {
		if len(t.devs) > 0 && !fileExists(dir, t.file) {
			return errNotAvailable(t.resource, t.file)
		}
		for _, d := range t.devs {
			if err := writeFile(dir, t.file, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, d.Rate)); err != nil {
				return resourceError(t.resource, err)
			}
		}
	}
	return nil
}

package cgroups

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// deviceRule is a validated linux.resources.devices entry.
type deviceRule struct {
	Allow  bool
	Type   byte  // 'a', 'b' or 'c'
	Major  int64 // -1: any
	Minor  int64 // -1: any
	Access string
}

func parseDeviceRules(in []specs.LinuxDeviceCgroup) ([]deviceRule, error) {
	out := make([]deviceRule, 0, len(in))
	for i, d := range in {
		r := deviceRule{Allow: d.Allow, Major: -1, Minor: -1, Access: d.Access}
		switch d.Type {
		case "", "a":
			r.Type = 'a'
		case "b", "c":
			r.Type = d.Type[0]
		default:
			return nil, fmt.Errorf("cgroup: devices[%d]: invalid type %q", i, d.Type)
		}
		if d.Major != nil {
			r.Major = *d.Major
		}
		if d.Minor != nil {
			r.Minor = *d.Minor
		}
		if r.Major < -1 || r.Minor < -1 {
			return nil, fmt.Errorf("cgroup: devices[%d]: invalid device number", i)
		}
		if r.Access == "" {
			r.Access = "rwm"
		}
		for _, c := range r.Access {
			if !strings.ContainsRune("rwm", c) || strings.Count(r.Access, string(c)) > 1 {
				return nil, fmt.Errorf("cgroup: devices[%d]: invalid access %q", i, d.Access)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// v1String renders the rule in devices.allow/devices.deny syntax ("c 1:3 rwm").
func (r deviceRule) v1String() string {
	num := func(n int64) string {
		if n < 0 {
			return "*"
		}
		return fmt.Sprint(n)
	}
	if r.Type == 'a' && r.Major < 0 && r.Minor < 0 {
		return "a *:* " + r.Access
	}
	return fmt.Sprintf("%c %s:%s %s", r.Type, num(r.Major), num(r.Minor), r.Access)
}

func i64(v int64) *int64 { return &v }

// DefaultDeviceRules are the device permissions runc grants every container in addition to
// the spec's rules: mknod of any device (the node still needs an allow rule to be opened),
// the standard character devices, the console, the pty multiplexer and slaves, and tun.
// The caller appends them after linux.resources.devices when it builds the Set request.
var DefaultDeviceRules = []specs.LinuxDeviceCgroup{
	{Allow: true, Type: "c", Access: "m"},
	{Allow: true, Type: "b", Access: "m"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"},    // null
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(8), Access: "rwm"},    // random
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(7), Access: "rwm"},    // full
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(0), Access: "rwm"},    // tty
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(5), Access: "rwm"},    // zero
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(9), Access: "rwm"},    // urandom
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(1), Access: "rwm"},    // console
	{Allow: true, Type: "c", Major: i64(136), Access: "rwm"},                 // pts/*
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(2), Access: "rwm"},    // ptmx
	{Allow: true, Type: "c", Major: i64(10), Minor: i64(200), Access: "rwm"}, // net/tun
}

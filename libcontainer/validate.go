package libcontainer

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/libcontainer/capabilities"
	"github.com/runo-dev/runo/seccomp"
)

// Supported config.json versions: 1.0.0 up to the runtime-spec version runo implements.
const ociVersionMin = "1.0.0"

var ociVersionMax = specs.Version

// ValidateID checks a container id as runc does: letters, digits, '_', '+', '-' and '.', not
// "." or "..", so an id can never name another path. (Hand-written rather than a regexp
// compiled at package init: every runo start pays for package init.)
func ValidateID(id string) error {
	ok := id != "" && id != "." && id != ".." && len(id) <= 1024
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '+' || c == '-' || c == '.'
	}
	if !ok {
		return fmt.Errorf("invalid container id %q: use letters, digits, '_', '+', '-' and '.'", id)
	}
	return nil
}

// parseSemver splits "MAJOR.MINOR.PATCH[-pre]" into its numbers.
func parseSemver(v string) (maj, min int, ok bool) {
	core, pre, hasPre := strings.Cut(v, "-")
	if hasPre && pre == "" {
		return 0, 0, false
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return 0, 0, false
	}
	var nums [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p == "" || p[0] == '+' {
			return 0, 0, false
		}
		nums[i] = n
	}
	return nums[0], nums[1], true
}

func validateVersion(v string) error {
	maj, min, ok := parseSemver(v)
	if !ok {
		return fmt.Errorf("ociVersion: %q is not a semantic version", v)
	}
	var maxMaj, maxMin int
	fmt.Sscanf(ociVersionMax, "%d.%d", &maxMaj, &maxMin)
	if maj != 1 || min > maxMin {
		return fmt.Errorf("ociVersion: %q is not supported (runo supports %s to %d.%d.x)", v, ociVersionMin, maxMaj, maxMin)
	}
	return nil
}

// Validate checks the spec for everything that can be checked without touching the host
// beyond reading namespace paths. Every error names the offending field.
func Validate(spec *specs.Spec) error {
	if err := validateVersion(spec.Version); err != nil {
		return err
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return fmt.Errorf("root.path: required")
	}
	if spec.Linux == nil {
		return fmt.Errorf("linux: required on this platform")
	}
	checks := []func(*specs.Spec) error{
		validateProcess, validateNamespaces, validateIDMappings, validateMounts, validateHooks,
		validateSysctl, validateDevices, validateHostname, validateSeccomp, validateMisc,
	}
	for _, c := range checks {
		if err := c(spec); err != nil {
			return err
		}
	}
	return nil
}

func validateProcess(spec *specs.Spec) error {
	p := spec.Process
	if p == nil {
		return nil // only `start` needs it; create checks for it explicitly
	}
	if len(p.Args) == 0 && p.CommandLine == "" {
		return fmt.Errorf("process.args: must contain at least one entry")
	}
	if p.Cwd == "" {
		return fmt.Errorf("process.cwd: required")
	}
	if !filepath.IsAbs(p.Cwd) {
		return fmt.Errorf("process.cwd: %q is not an absolute path", p.Cwd)
	}
	for _, e := range p.Env {
		if !strings.Contains(e, "=") {
			return fmt.Errorf("process.env: %q is not of the form KEY=value", e)
		}
	}
	if p.Capabilities != nil {
		if _, err := capabilities.New(p.Capabilities); err != nil {
			return fmt.Errorf("process.capabilities: %w", err)
		}
	}
	if a := p.ExecCPUAffinity; a != nil {
		for field, list := range map[string]string{"initial": a.Initial, "final": a.Final} {
			if list == "" {
				continue
			}
			if _, err := parseCPUList(list); err != nil {
				return fmt.Errorf("process.execCPUAffinity.%s: %w", field, err)
			}
		}
	}
	seen := map[string]bool{}
	for _, r := range p.Rlimits {
		if _, ok := rlimitTypes[r.Type]; !ok {
			return fmt.Errorf("process.rlimits: unknown type %q", r.Type)
		}
		if seen[r.Type] {
			return fmt.Errorf("process.rlimits: %s listed twice", r.Type)
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			return fmt.Errorf("process.rlimits: %s soft limit %d exceeds hard limit %d", r.Type, r.Soft, r.Hard)
		}
	}
	if p.OOMScoreAdj != nil && (*p.OOMScoreAdj < -1000 || *p.OOMScoreAdj > 1000) {
		return fmt.Errorf("process.oomScoreAdj: %d is outside -1000..1000", *p.OOMScoreAdj)
	}
	if p.IOPriority != nil {
		if _, ok := ioprioClasses[p.IOPriority.Class]; !ok {
			return fmt.Errorf("process.ioPriority.class: unknown class %q", p.IOPriority.Class)
		}
		if p.IOPriority.Priority < 0 || p.IOPriority.Priority > 7 {
			return fmt.Errorf("process.ioPriority.priority: %d is outside 0..7", p.IOPriority.Priority)
		}
	}
	if p.Scheduler != nil {
		if _, ok := schedPolicies[p.Scheduler.Policy]; !ok {
			return fmt.Errorf("process.scheduler.policy: unknown policy %q", p.Scheduler.Policy)
		}
	}
	if p.ConsoleSize != nil && !p.Terminal {
		return fmt.Errorf("process.consoleSize: set without process.terminal")
	}
	return nil
}

func validateNamespaces(spec *specs.Spec) error {
	seen := map[specs.LinuxNamespaceType]bool{}
	for _, ns := range spec.Linux.Namespaces {
		if _, ok := nsFlags[ns.Type]; !ok {
			return fmt.Errorf("linux.namespaces: unknown namespace type %q", ns.Type)
		}
		if seen[ns.Type] {
			return fmt.Errorf("linux.namespaces: namespace type %q listed more than once", ns.Type)
		}
		seen[ns.Type] = true
		if ns.Path != "" {
			if !filepath.IsAbs(ns.Path) {
				return fmt.Errorf("linux.namespaces: %s namespace path %q is not absolute", ns.Type, ns.Path)
			}
			if err := checkNamespacePath(ns.Type, ns.Path); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateIDMappings(spec *specs.Spec) error {
	l := spec.Linux
	if (len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0) && !hasNewNamespace(spec, specs.UserNamespace) {
		return fmt.Errorf("linux.uidMappings: mappings require a new user namespace")
	}
	if hasNewNamespace(spec, specs.UserNamespace) && (len(l.UIDMappings) == 0 || len(l.GIDMappings) == 0) {
		return fmt.Errorf("linux.uidMappings: a new user namespace needs uidMappings and gidMappings")
	}
	if len(l.TimeOffsets) > 0 && !hasNewNamespace(spec, specs.TimeNamespace) {
		return fmt.Errorf("linux.timeOffsets: offsets require a new time namespace")
	}
	for clock := range l.TimeOffsets {
		if clock != "monotonic" && clock != "boottime" {
			return fmt.Errorf("linux.timeOffsets: unknown clock %q (monotonic or boottime)", clock)
		}
	}
	return nil
}

func validateMounts(spec *specs.Spec) error {
	for i, m := range spec.Mounts {
		if m.Destination == "" {
			return fmt.Errorf("mounts[%d].destination: required", i)
		}
		if !filepath.IsAbs(m.Destination) {
			return fmt.Errorf("mounts[%d].destination: %q is not an absolute path", i, m.Destination)
		}
		if m.Type == "" && !isBindMount(m) {
			return fmt.Errorf("mounts[%d] (%s): type is required unless the options contain bind or rbind", i, m.Destination)
		}
		if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
			return fmt.Errorf("mounts[%d] (%s): uidMappings/gidMappings (idmapped mounts) are not supported yet", i, m.Destination)
		}
	}
	return nil
}

func isBindMount(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

func validateHooks(spec *specs.Spec) error {
	if spec.Hooks == nil {
		return nil
	}
	sets := map[string][]specs.Hook{
		"prestart": spec.Hooks.Prestart, "createRuntime": spec.Hooks.CreateRuntime,
		"createContainer": spec.Hooks.CreateContainer, "startContainer": spec.Hooks.StartContainer,
		"poststart": spec.Hooks.Poststart, "poststop": spec.Hooks.Poststop,
	}
	for name, hooks := range sets {
		for i, h := range hooks {
			if !filepath.IsAbs(h.Path) {
				return fmt.Errorf("hooks.%s[%d].path: %q is not an absolute path", name, i, h.Path)
			}
			if h.Timeout != nil && *h.Timeout <= 0 {
				return fmt.Errorf("hooks.%s[%d].timeout: must be positive", name, i)
			}
		}
	}
	return nil
}

func validateSysctl(spec *specs.Spec) error {
	for key := range spec.Linux.Sysctl {
		if strings.Contains(key, "..") || strings.ContainsAny(key, " \n") {
			return fmt.Errorf("linux.sysctl: invalid key %q", key)
		}
		k := strings.ReplaceAll(key, "/", ".")
		switch {
		case strings.HasPrefix(k, "net."):
			if !hasNamespace(spec, specs.NetworkNamespace) {
				return fmt.Errorf("linux.sysctl: %s needs a network namespace (it would change the host)", key)
			}
		case strings.HasPrefix(k, "fs.mqueue.") || strings.HasPrefix(k, "kernel.msg") ||
			strings.HasPrefix(k, "kernel.sem") || strings.HasPrefix(k, "kernel.shm"):
			if !hasNamespace(spec, specs.IPCNamespace) {
				return fmt.Errorf("linux.sysctl: %s needs an ipc namespace (it would change the host)", key)
			}
		case k == "kernel.hostname" || k == "kernel.domainname":
			if !hasNamespace(spec, specs.UTSNamespace) {
				return fmt.Errorf("linux.sysctl: %s needs a uts namespace (it would change the host)", key)
			}
		default:
			return fmt.Errorf("linux.sysctl: %s is not in a separate kernel namespace: it would change the host", key)
		}
	}
	return nil
}

func validateDevices(spec *specs.Spec) error {
	for i, d := range spec.Linux.Devices {
		if !filepath.IsAbs(d.Path) {
			return fmt.Errorf("linux.devices[%d].path: %q is not an absolute path", i, d.Path)
		}
		switch d.Type {
		case "c", "b", "u":
		case "p":
		default:
			return fmt.Errorf("linux.devices[%d].type: unknown device type %q", i, d.Type)
		}
	}
	return nil
}

func validateHostname(spec *specs.Spec) error {
	if spec.Hostname != "" && !hasNamespace(spec, specs.UTSNamespace) {
		return fmt.Errorf("hostname: setting it needs a uts namespace")
	}
	if spec.Domainname != "" && !hasNamespace(spec, specs.UTSNamespace) {
		return fmt.Errorf("domainname: setting it needs a uts namespace")
	}
	return nil
}

func validateSeccomp(spec *specs.Spec) error {
	if spec.Linux.Seccomp == nil {
		return nil
	}
	if err := seccomp.Validate(spec.Linux.Seccomp); err != nil {
		return fmt.Errorf("linux.seccomp: %w", err)
	}
	return nil
}

func validateMisc(spec *specs.Spec) error {
	switch spec.Linux.RootfsPropagation {
	case "", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable":
	default:
		return fmt.Errorf("linux.rootfsPropagation: unknown value %q", spec.Linux.RootfsPropagation)
	}
	for _, p := range append(append([]string{}, spec.Linux.MaskedPaths...), spec.Linux.ReadonlyPaths...) {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("linux.maskedPaths/readonlyPaths: %q is not an absolute path", p)
		}
	}
	if spec.Linux.IntelRdt != nil {
		return fmt.Errorf("linux.intelRdt: not supported")
	}
	if spec.Process != nil && spec.Process.ApparmorProfile != "" && !apparmorEnabled() {
		return fmt.Errorf("process.apparmorProfile: AppArmor is not enabled on this host")
	}
	return nil
}

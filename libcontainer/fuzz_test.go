package libcontainer

import (
	"encoding/json"
	"strings"
	"testing"
)

// specSeeds are config.json documents that reach every validator: the
// `runc spec` default, and variants with each optional section filled in.
func specSeeds(t testing.TB) [][]byte {
	base := baseSpec()
	data, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	seeds := [][]byte{data, []byte(`{}`), []byte(`null`), []byte(`{"ociVersion":"1.0.0"}`),
		[]byte(`{"ociVersion":"1.0.2","root":{"path":"rootfs"},"linux":{}}`)}
	extra := []string{
		`"mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/x","options":["rbind","ro"],"source":"/tmp"}]`,
		`"hooks":{"prestart":[{"path":"/bin/true","timeout":-1}],"poststop":[{"path":"rel"}]}`,
		`"process":{"args":["sh"],"cwd":"/","env":["A=B","C"],"rlimits":[{"type":"RLIMIT_NOFILE","soft":2,"hard":1}],"oomScoreAdj":1001,"ioPriority":{"class":"IOPRIO_CLASS_RT","priority":9},"scheduler":{"policy":"SCHED_FIFO"},"capabilities":{"bounding":["CAP_BOGUS"]}}`,
		`"hostname":"h","domainname":"d"`,
	}
	linuxExtra := []string{
		`"sysctl":{"net.ipv4.ip_forward":"1","kernel.core_pattern":"x","a..b":"c","fs.mqueue.queues_max":"1"}`,
		`"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":7,"value":1,"op":"SCMP_CMP_EQ"}]}]}`,
		`"uidMappings":[{"containerID":0,"hostID":1000,"size":1}],"timeOffsets":{"monotonic":{"secs":1},"bogus":{}}`,
		`"devices":[{"path":"dev/x","type":"q"}],"maskedPaths":["rel"],"rootfsPropagation":"sideways","intelRdt":{}`,
		`"namespaces":[{"type":"pid"},{"type":"pid"},{"type":"mount","path":"/proc/1/ns/mnt"},{"type":"net","path":"relative"},{"type":"bogus"}]`,
	}
	for _, e := range extra {
		seeds = append(seeds, []byte(strings.Replace(string(data), "{", "{"+e+",", 1)))
	}
	for _, e := range linuxExtra {
		seeds = append(seeds, []byte(strings.Replace(string(data), `"linux":{`, `"linux":{`+e+",", 1)))
	}
	return seeds
}

// FuzzParseSpec: ParseSpec decodes and validates untrusted config.json bytes;
// whatever they are, it must return a spec or an error, never panic, and a
// spec it accepts must round-trip through JSON and be accepted again.
func FuzzParseSpec(f *testing.F) {
	for _, s := range specSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := ParseSpec(data)
		if err != nil {
			if spec != nil {
				t.Fatalf("ParseSpec returned both a spec and an error: %v", err)
			}
			return
		}
		if spec == nil {
			t.Fatal("ParseSpec returned neither a spec nor an error")
		}
		again, err := json.Marshal(spec)
		if err != nil {
			t.Fatalf("accepted spec does not marshal: %v", err)
		}
		if _, err := ParseSpec(again); err != nil {
			t.Fatalf("accepted spec is rejected after a JSON round trip: %v\n%s", err, again)
		}
	})
}

// FuzzValidateID: an accepted id must be safe as a single path component
// under the state root: non-empty, no separator, not "." or "..", no NUL or
// whitespace, at most 1024 bytes.
func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"", ".", "..", "a", "a/b", "../x", "a..b", ".hidden", "x\x00y", "with space",
		"ünïcode", strings.Repeat("a", 1024), strings.Repeat("a", 1025), "a\n", "-rf", "+1", "a_b-c.d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if ValidateID(id) != nil {
			return
		}
		if id == "" || id == "." || id == ".." || len(id) > 1024 || strings.ContainsAny(id, "/\x00 \t\n\r\\") {
			t.Fatalf("ValidateID accepted %q", id)
		}
		for _, r := range id {
			if !(r == '_' || r == '+' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				t.Fatalf("ValidateID accepted %q with character %q", id, r)
			}
		}
	})
}

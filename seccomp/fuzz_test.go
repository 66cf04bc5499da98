package seccomp

import (
	"encoding/json"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// FuzzSeccompBuild: linux.seccomp comes from an untrusted config.json.
// Decoding arbitrary JSON into LinuxSeccomp and running Validate and Build on
// it must never panic, and Build must accept exactly what Validate accepts
// (apart from libseccomp refusing something Validate let through, which is
// reported as an error, not a crash).
func FuzzSeccompBuild(f *testing.F) {
	seeds := []string{
		`{"defaultAction":"SCMP_ACT_ALLOW"}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[{"names":["read","write","bogus_call"],"action":"SCMP_ACT_ALLOW"}]}`,
		`{"defaultAction":"SCMP_ACT_KILL_PROCESS","flags":["SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_SPEC_ALLOW"],"syscalls":[{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"},{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]}]}`,
		`{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock","listenerMetadata":"x","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}`,
		`{"defaultAction":"SCMP_ACT_NOTIFY"}`,
		`{"defaultAction":"SCMP_ACT_TRACE","syscalls":[{"names":[],"action":"SCMP_ACT_LOG"},{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":4096}]}`,
		`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_TRAP","args":[{"index":6,"value":1,"op":"SCMP_CMP_GT"},{"index":0,"value":1,"op":"SCMP_CMP_BOGUS"}]}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_AARCH64","SCMP_ARCH_BOGUS"]}`,
		`{"defaultAction":"","syscalls":null}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c specs.LinuxSeccomp
		if json.Unmarshal(data, &c) != nil {
			return
		}
		verr := Validate(&c)
		filter, berr := Build(&c)
		if verr != nil && berr == nil {
			t.Fatalf("Build accepted a config Validate rejects (%v): %s", verr, data)
		}
		if berr == nil && filter == nil {
			t.Fatalf("Build returned neither a filter nor an error: %s", data)
		}
	})
}

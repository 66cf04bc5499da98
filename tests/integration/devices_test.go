package integration

import "testing"

// TestDefaultDevices: the spec's default devices exist and are usable even
// though the default spec's device cgroup rule denies everything else.
func TestDefaultDevices(t *testing.T) {
	t.Parallel()
	out := runOut(t, nil, sh(`echo x > /dev/null && echo null-ok
head -c 4 /dev/zero | wc -c
head -c 4 /dev/urandom | wc -c
head -c 4 /dev/random | wc -c
echo x > /dev/full 2>/dev/null || echo full-enospc
for d in null zero full random urandom tty ptmx; do test -c /dev/$d || test -L /dev/$d || echo missing-$d; done
for l in fd stdin stdout stderr; do test -L /dev/$l || echo missing-$l; done`)...)
	want := "null-ok\n4\n4\n4\nfull-enospc\n"
	if out != want {
		t.Errorf("output %q, want %q", out, want)
	}
}

package selinux

import "testing"

// On a host without SELinux, labels must be accepted and ignored; on an SELinux host an
// invalid label must be refused. The guest tests (tests/guest) cover a real SELinux host.
func TestLabelsOnThisHost(t *testing.T) {
	err := SetExecLabel("system_u:system_r:container_t:s0:c1,c2")
	if !Enabled() && err != nil {
		t.Fatalf("SELinux disabled: label should be ignored, got %v", err)
	}
	if Enabled() {
		if err := SetExecLabel("not a label"); err == nil {
			t.Fatal("SELinux enabled: an invalid label was accepted")
		}
	}
	if err := SetExecLabel(""); err != nil {
		t.Fatalf("empty label: %v", err)
	}
}

package main

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want unix.Signal
		ok   bool
	}{
		{"9", unix.SIGKILL, true}, {"KILL", unix.SIGKILL, true}, {"SIGTERM", unix.SIGTERM, true},
		{"term", unix.SIGTERM, true}, {"sigusr1", unix.SIGUSR1, true},
		{"0", 0, false}, {"65", 0, false}, {"BOGUS", 0, false}, {"", 0, false}, {"-9", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSignal(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseUser(t *testing.T) {
	tests := []struct {
		in       string
		uid, gid uint32
		hasGid   bool
		ok       bool
	}{
		{"1000", 1000, 0, false, true}, {"0:0", 0, 0, true, true}, {"1000:100", 1000, 100, true, true},
		{"", 0, 0, false, false}, {"root", 0, 0, false, false}, {"1000x", 0, 0, false, false},
		{"-1", 0, 0, false, false}, {"4294967296", 0, 0, false, false}, {"4294967295", 0, 0, false, false},
		{"1000:", 0, 0, false, false}, {":1000", 0, 0, false, false}, {"0x10", 0, 0, false, false},
		{"1000 ", 0, 0, false, false}, {"+5", 0, 0, false, false}, {"1:2:3", 0, 0, false, false},
	}
	for _, tt := range tests {
		uid, gid, hasGid, err := parseUser(tt.in)
		if (err == nil) != tt.ok || (tt.ok && (uid != tt.uid || gid != tt.gid || hasGid != tt.hasGid)) {
			t.Errorf("parseUser(%q) = %d, %d, %v, %v", tt.in, uid, gid, hasGid, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1024", 1024, true}, {"64m", 64 << 20, true}, {"1g", 1 << 30, true}, {"512k", 512 << 10, true},
		{"2MiB", 2 << 20, true}, {"-1", -1, true}, {"x", 0, false}, {"-5", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v", tt.in, got, err)
		}
	}
}

func TestFilterPs(t *testing.T) {
	out := "UID PID PPID CMD\nroot 1 0 init\nroot 42 1 sleep\nroot 43 1 other\n"
	got, err := filterPs([]byte(out), []int{42})
	if err != nil {
		t.Fatal(err)
	}
	if want := "UID PID PPID CMD\nroot 42 1 sleep\n"; string(got) != want {
		t.Errorf("filterPs = %q, want %q", got, want)
	}
	if _, err := filterPs([]byte("A B\n1 2\n"), nil); err == nil || !strings.Contains(err.Error(), "PID") {
		t.Errorf("missing PID column: %v", err)
	}
}

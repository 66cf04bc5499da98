// Package sigrelay catches the signals that a foreground `run` or `exec` relays to the
// container, without os/signal.
//
// os/signal hands every signal it starts catching to the Go runtime's signal thread and
// waits for the answer, and afterwards routes each signal through that thread: for the
// 60-odd signals runc relays this cost about 5 ms of a 45 ms `run` on a virtual machine
// (two thread switches per signal). Here a small C handler writes the signal's number to a
// pipe instead, and installing it is one sigaction per signal.
//
// The Go runtime keeps the signals it needs: SIGURG (preemption) and SIGPROF, glibc's two
// internal ones, and faults. SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP and SIGSYS are
// caught too, because runc relays them when another process sends them, but when the
// kernel raises one (a fault in runo itself) the handler passes it on to the runtime's
// handler, as the cgo documentation asks of handlers installed after the runtime.
package sigrelay

/*
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int relay_fd = -1;
static struct sigaction go_action[_NSIG];

// is_fault says whether sig is one the kernel raises for a faulting instruction.
static int is_fault(int sig)
{
	switch (sig) {
	case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGTRAP: case SIGSYS:
		return 1;
	}
	return 0;
}

// relay runs on any thread, on the Go runtime's alternate signal stack (SA_ONSTACK): it may
// only make async-signal-safe calls. A full pipe drops the signal, as a pending signal
// would merge with the next one anyway.
static void relay(int sig, siginfo_t *info, void *ctx)
{
	if (info && info->si_code > 0 && is_fault(sig)) {
		// Raised by the kernel, not sent: the runtime's (a nil dereference becomes a panic).
		if (go_action[sig].sa_flags & SA_SIGINFO) {
			go_action[sig].sa_sigaction(sig, info, ctx);
		} else {
			// No runtime handler: restore what there was; the instruction faults again.
			sigaction(sig, &go_action[sig], NULL);
		}
		return;
	}
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	ssize_t n = write(relay_fd, &b, 1);
	(void)n;
	errno = saved;
}

// catch_signals installs relay for each of sigs[0..n), writing to fd. It returns the
// signal that could not be caught, or 0.
static int catch_signals(int fd, const int *sigs, int n)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = relay;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	relay_fd = fd;
	for (int i = 0; i < n; i++) {
		if (sigaction(sigs[i], &sa, &go_action[sigs[i]]) < 0)
			return sigs[i];
	}
	return 0;
}
*/
import "C"

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Relayed lists the signals Catch catches: every signal but SIGKILL and SIGSTOP (which
// cannot be caught), SIGURG and SIGPROF (the Go runtime's) and 32 and 33 (glibc's). runc
// relays the same set, less SIGURG, which it drops.
func Relayed() []unix.Signal {
	var sigs []unix.Signal
	for s := unix.Signal(1); s <= unix.Signal(64); s++ {
		switch s {
		case unix.SIGKILL, unix.SIGSTOP, unix.SIGURG, unix.SIGPROF, 32, 33:
			continue
		}
		sigs = append(sigs, s)
	}
	return sigs
}

// Relay delivers the caught signals.
type Relay struct {
	r *os.File
}

// Catch catches every Relayed signal from now on, for the rest of the process's life: a
// signal must not take its default action in the moment between a container's exit and
// runo's. There is one Relay per process; Catch must not be called twice.
func Catch() (*Relay, error) {
	// Non-blocking at both ends: the handler must never block, and the reader waits in the
	// runtime's poller, which leaves the P free (a terminal's copying goroutines need it).
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, fmt.Errorf("signal pipe: %w", err)
	}
	sigs := Relayed()
	cs := make([]C.int, len(sigs))
	for i, s := range sigs {
		cs[i] = C.int(s)
	}
	if s := C.catch_signals(C.int(p[1]), &cs[0], C.int(len(cs))); s != 0 {
		// Both ends stay open: the signals caught so far still write to the pipe, and without
		// a reader each write would raise SIGPIPE, itself caught, without end.
		return nil, fmt.Errorf("catch %v: %w", unix.Signal(s), unix.EINVAL)
	}
	return &Relay{r: os.NewFile(uintptr(p[0]), "signal relay")}, nil
}

// Next blocks until at least one signal has arrived and returns those that have, oldest
// first.
func (r *Relay) Next() ([]unix.Signal, error) {
	var buf [64]byte
	n, err := r.r.Read(buf[:])
	if err != nil {
		return nil, fmt.Errorf("read signal pipe: %w", err)
	}
	sigs := make([]unix.Signal, n)
	for i := range n {
		sigs[i] = unix.Signal(buf[i])
	}
	return sigs, nil
}

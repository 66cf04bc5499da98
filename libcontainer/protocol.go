package libcontainer

// The parent↔init protocol.
//
// `runo create` (the parent) starts `runo init` with one end of a socketpair at the fd named by
// _RUNO_INITPIPE. Every message in either direction is a frame:
//
//	u32 length (of type + payload), u32 type, payload      (host byte order)
//
// The conversation, in order:
//
//	parent → C   msgBootstrap   namespaces to join and create (records, see bootstrapRecord)
//	C → parent   msgUsermapReq  (new user namespace only) pid whose uid/gid maps to write
//	parent → C   msgUsermapAck
//	C → parent   msgChildPid    host pid of the container's init; the C helper then exits
//	parent → Go  msgConfig      initConfig as JSON
//	Go → parent  msgCgroupReq   init's own setup allocations are done: put it in the cgroup
//	parent → Go  msgCgroupAck   payload: the seccomp program (seccomp.Filter wire form), if any
//	Go → parent  msgHooksReq    mounts are done: run prestart and createRuntime hooks
//	parent → Go  msgHooksAck
//	Go → parent  msgConsole     (terminal only) the pty master as SCM_RIGHTS
//	parent → Go  msgConsoleAck
//	Go → parent  msgSeccompFd   (SCMP_ACT_NOTIFY only) the listener fd as SCM_RIGHTS
//	parent → Go  msgSeccompAck
//	Go → parent  msgReady       init waits on the exec fifo; the container is "created"
//
// At any point before msgReady, init may send msgWarning (UTF-8 text, no reply): the parent
// logs it and the setup goes on (e.g. a capability that cannot be granted here).
//
// Either side may send msgError (a UTF-8 message; from Go, JSON errorMsg) instead of the next
// expected frame; the receiver aborts. The C helper's errors are plain text.
const (
	msgBootstrap  uint32 = 1
	msgUsermapReq uint32 = 2
	msgUsermapAck uint32 = 3
	msgChildPid   uint32 = 4
	msgError      uint32 = 5
	msgConfig     uint32 = 10
	msgCgroupReq  uint32 = 11
	msgCgroupAck  uint32 = 12
	msgHooksReq   uint32 = 13
	msgHooksAck   uint32 = 14
	msgConsole    uint32 = 15
	msgConsoleAck uint32 = 16
	msgSeccompFd  uint32 = 17
	msgSeccompAck uint32 = 18
	msgReady      uint32 = 19
	msgWarning    uint32 = 20
)

// Bootstrap record kinds (see nsenter.c).
const (
	recCloneFlags uint32 = 1
	recNsPath     uint32 = 2
	recTimens     uint32 = 3
	recOomScore   uint32 = 4
)

// Environment variables through which the parent hands fds to init.
const (
	envInitPipe = "_RUNO_INITPIPE"
	envFifoFd   = "_RUNO_FIFOFD"
)

func msgName(t uint32) string {
	switch t {
	case msgBootstrap:
		return "bootstrap"
	case msgUsermapReq:
		return "usermap-request"
	case msgUsermapAck:
		return "usermap-ack"
	case msgChildPid:
		return "child-pid"
	case msgError:
		return "error"
	case msgConfig:
		return "config"
	case msgCgroupReq:
		return "cgroup-request"
	case msgCgroupAck:
		return "cgroup-ack"
	case msgHooksReq:
		return "hooks-request"
	case msgHooksAck:
		return "hooks-ack"
	case msgConsole:
		return "console"
	case msgConsoleAck:
		return "console-ack"
	case msgSeccompFd:
		return "seccomp-fd"
	case msgSeccompAck:
		return "seccomp-ack"
	case msgReady:
		return "ready"
	case msgWarning:
		return "warning"
	}
	return "unknown"
}

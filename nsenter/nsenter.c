/*
 * nsenter: the part of `runo init` (and `runo exec`'s setns helper) that must run before the Go
 * runtime starts. Joining a user or mount namespace and unsharing a user namespace need a
 * single-threaded process, and a new pid (or time) namespace only applies to children, so this
 * constructor does exactly those steps and forks; everything else happens in Go.
 *
 * It does nothing unless _RUNO_INITPIPE names the socket to the parent runtime. The wire format
 * is the one documented in libcontainer/protocol.go: every frame is
 *     u32 length (of type + payload), u32 type, payload
 * in host byte order. The parent sends one BOOTSTRAP frame whose payload is a list of records
 *     u32 kind, u32 length, bytes
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

/* Frame types: keep in sync with libcontainer/protocol.go. */
enum {
	MSG_BOOTSTRAP = 1,
	MSG_USERMAP_REQ = 2,
	MSG_USERMAP_ACK = 3,
	MSG_CHILD_PID = 4,
	MSG_ERROR = 5,
};

/* Bootstrap record kinds: keep in sync with libcontainer/protocol.go. */
enum {
	REC_CLONE_FLAGS = 1,  /* u32: namespaces to create */
	REC_NS_PATH = 2,      /* "<clone flag as decimal>:<path>": a namespace to join */
	REC_TIMENS = 3,       /* text for /proc/self/timens_offsets */
	REC_OOM_SCORE = 4,    /* text for /proc/self/oom_score_adj */
};

#define MAX_NS 16
#define MAX_BOOTSTRAP (1 << 20)

struct nsjoin {
	int flag;
	int fd;
	char *path;
};

struct bootstrap {
	uint32_t cloneflags;
	int nns;
	struct nsjoin ns[MAX_NS];
	char *timens;
	char *oomscore;
};

static int syncfd = -1;

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = 0; /* end of stream: the parent is gone, no error to name */
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* One writev per frame: the parent wakes once, with the whole frame. */
static int send_frame(uint32_t type, const void *payload, uint32_t len)
{
	uint32_t hdr[2] = { len + 4, type };
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)payload, len } };
	ssize_t n;
	do
		n = writev(syncfd, iov, len ? 2 : 1);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)(sizeof(hdr) + len))
		return 0;
	if (n < 0 || (size_t)n < sizeof(hdr)) /* a socket this small never writes short */
		return -1;
	return write_all(syncfd, (const char *)payload + (n - sizeof(hdr)), len - (n - sizeof(hdr)));
}

/* The Go runtime's data and bss, from the linker (weak: absent under some link modes). */
extern char __data_start[] __attribute__((weak));
extern char _end[] __attribute__((weak));

/* Map the writable data segment in one call before the Go runtime writes to it page by page.
 * On a virtual machine every first touch of a page is a trap to the hypervisor (10-20 us);
 * MADV_POPULATE_WRITE (Linux 5.14) costs about 1 us per page. Failure only loses the speed-up. */
static void populate_data(void)
{
	if (!__data_start || !_end)
		return;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = (uintptr_t)__data_start & ~(page - 1);
	uintptr_t hi = ((uintptr_t)_end + page - 1) & ~(page - 1);
	madvise((void *)lo, hi - lo, 23 /* MADV_POPULATE_WRITE */);
}

/* Report the failure to the parent, which turns it into the user's error, and exit. saved is
 * the errno to explain it, 0 for none. */
static void vbail(int saved, const char *fmt, va_list ap)
{
	char msg[1024];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		n = 0;
	if (n >= (int)sizeof(msg))
		n = sizeof(msg) - 1;
	if (saved)
		n += snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	if (n >= (int)sizeof(msg))
		n = sizeof(msg) - 1;
	if (send_frame(MSG_ERROR, msg, n) < 0)
		fprintf(stderr, "runo init: %s\n", msg);
	_exit(1);
}

/* A failed system call: the message ends with strerror(errno). */
static void bail(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vbail(saved, fmt, ap);
	va_end(ap);
}

/* Bad input or protocol: no errno belongs to it. */
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vbail(0, fmt, ap);
	va_end(ap);
}

static void *read_frame(uint32_t want, uint32_t *lenp)
{
	uint32_t hdr[2];
	if (read_all(syncfd, hdr, sizeof(hdr)) < 0)
		bail("read frame header");
	if (hdr[1] != want)
		die("unexpected frame type %u (want %u)", hdr[1], want);
	if (hdr[0] < 4 || hdr[0] - 4 > MAX_BOOTSTRAP)
		die("bad frame length %u", hdr[0]);
	uint32_t len = hdr[0] - 4;
	char *buf = calloc(1, len + 1);
	if (!buf)
		bail("alloc %u bytes", len);
	if (len && read_all(syncfd, buf, len) < 0)
		bail("read frame payload");
	*lenp = len;
	return buf;
}

static void parse_bootstrap(char *buf, uint32_t len, struct bootstrap *b)
{
	uint32_t off = 0;
	while (off + 8 <= len) {
		uint32_t kind, rlen;
		memcpy(&kind, buf + off, 4);
		memcpy(&rlen, buf + off + 4, 4);
		off += 8;
		if (rlen > len - off)
			die("bootstrap record %u overruns the frame", kind);
		char *val = buf + off;
		off += rlen;
		/* Records are NUL-terminated in place by moving the terminator into the next header,
		 * which we have already parsed; copy instead to keep it simple. */
		char *s = strndup(val, rlen);
		if (!s)
			bail("alloc");
		switch (kind) {
		case REC_CLONE_FLAGS:
			if (rlen != 4)
				die("bad clone flags record");
			memcpy(&b->cloneflags, val, 4);
			free(s);
			break;
		case REC_NS_PATH: {
			char *colon = strchr(s, ':');
			if (!colon || b->nns >= MAX_NS)
				die("bad namespace record %s", s);
			*colon = '\0';
			b->ns[b->nns].flag = atoi(s);
			b->ns[b->nns].path = colon + 1;
			b->nns++;
			break;
		}
		case REC_TIMENS:
			b->timens = s;
			break;
		case REC_OOM_SCORE:
			b->oomscore = s;
			break;
		default:
			die("unknown bootstrap record %u", kind);
		}
	}
}

static void write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		bail("open %s", path);
	if (write_all(fd, data, strlen(data)) < 0)
		bail("write %s", path);
	close(fd);
}

/* After entering a user namespace, become its root so later steps have its capabilities. */
static void become_root(void)
{
	if (setresgid(0, 0, 0) < 0)
		bail("setresgid to the user namespace's root");
	if (setresuid(0, 0, 0) < 0)
		bail("setresuid to the user namespace's root");
}

static void join_namespaces(struct bootstrap *b)
{
	/* Open every path before joining anything: joining the mount namespace changes what the
	 * remaining paths resolve to. */
	for (int i = 0; i < b->nns; i++) {
		b->ns[i].fd = open(b->ns[i].path, O_RDONLY | O_CLOEXEC);
		if (b->ns[i].fd < 0)
			bail("open namespace %s", b->ns[i].path);
	}
	/* The user namespace first: it grants the privileges needed to join the others. */
	for (int i = 0; i < b->nns; i++) {
		if (b->ns[i].flag != CLONE_NEWUSER)
			continue;
		if (setns(b->ns[i].fd, CLONE_NEWUSER) < 0)
			bail("join user namespace %s", b->ns[i].path);
		become_root();
	}
	for (int i = 0; i < b->nns; i++) {
		if (b->ns[i].flag == CLONE_NEWUSER)
			continue;
		if (setns(b->ns[i].fd, b->ns[i].flag) < 0)
			bail("join namespace %s", b->ns[i].path);
	}
	for (int i = 0; i < b->nns; i++)
		close(b->ns[i].fd);
}

/* The Go runtime's threads call malloc once each (cgo's thread start frees a block, which sets
 * up a thread cache): with an arena per thread, each costs a 128 MiB reservation, two trims
 * and page faults. runo does not malloc in parallel. For every runo process, CLI and init. */
static void one_malloc_arena(void)
{
	mallopt(M_ARENA_MAX, 1);
}

__attribute__((constructor)) static void nsenter(void)
{
	const char *env = getenv("_RUNO_INITPIPE");
	if (!env || !*env) {
		populate_data();
		one_malloc_arena();
		return;
	}
	syncfd = atoi(env);

	/* Not dumpable while we are runo: a process in the container we are joining must not
	 * ptrace us or open our /proc files to take our fds (CVE-2016-9962). execve of the
	 * container's program makes it dumpable again. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		bail("prctl(PR_SET_DUMPABLE)");
	/* We are executed as /proc/self/fd/N: give ps a readable name instead of "N". */
	prctl(PR_SET_NAME, "runo:init", 0, 0, 0);

	uint32_t len;
	char *buf = read_frame(MSG_BOOTSTRAP, &len);
	struct bootstrap b;
	memset(&b, 0, sizeof(b));
	parse_bootstrap(buf, len, &b);

	/* Before entering a user namespace: lowering the score needs CAP_SYS_RESOURCE in the
	 * initial one. */
	if (b.oomscore)
		write_file("/proc/self/oom_score_adj", b.oomscore);

	join_namespaces(&b);

	if (b.cloneflags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			bail("unshare user namespace");
		/* The parent writes uid_map/gid_map; they can only be written from outside. */
		int32_t pid = getpid();
		if (send_frame(MSG_USERMAP_REQ, &pid, sizeof(pid)) < 0)
			bail("request id mappings");
		free(read_frame(MSG_USERMAP_ACK, &len));
		become_root();
	}

	/* The cgroup namespace is unshared later, in Go, once the parent has moved us into the
	 * container's cgroup: its root is the cgroup we are in when it is created. */
	uint32_t rest = b.cloneflags & ~(CLONE_NEWUSER | CLONE_NEWCGROUP);
	if (rest && unshare(rest) < 0)
		bail("unshare namespaces 0x%x", rest);

	if (b.timens)
		write_file("/proc/self/timens_offsets", b.timens);

	/* Fork so that a new pid (and time) namespace applies; CLONE_PARENT makes the runtime the
	 * parent of the container's init, so `run` can wait for it. */
	pid_t child = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
	if (child < 0)
		bail("fork into the new namespaces");
	if (child > 0) {
		int32_t pid = child;
		if (send_frame(MSG_CHILD_PID, &pid, sizeof(pid)) < 0) {
			kill(child, SIGKILL);
			_exit(1);
		}
		_exit(0);
	}
	/* The child returns into the Go runtime as `runo init`; bootstrap memory is not freed on
	 * purpose: it is tiny and the process execs soon. No populate_data() here: after the fork
	 * the data segment is shared copy-on-write with the bootstrap process, so populating would
	 * copy every page, and the runtime writes to about a third of them (measured slower). */
	one_malloc_arena();
}

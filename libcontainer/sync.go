package libcontainer

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// maxFrame bounds a frame so that a confused peer cannot make us allocate without limit.
const maxFrame = 64 << 20

// syncConn is one end of the parent↔init socketpair, speaking the frames of protocol.go.
type syncConn struct {
	f *os.File
}

// errorMsg is the payload of msgError sent by the Go side of init.
type errorMsg struct {
	Message string `json:"message"`
}

func newSyncPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}

func (c *syncConn) send(t uint32, payload []byte, fds ...int) error {
	buf := make([]byte, 8+len(payload))
	binary.NativeEndian.PutUint32(buf[0:], uint32(len(payload)+4))
	binary.NativeEndian.PutUint32(buf[4:], t)
	copy(buf[8:], payload)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	rc, err := c.f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	written := 0
	err = rc.Write(func(fd uintptr) bool {
		for written < len(buf) {
			n, e := unix.SendmsgN(int(fd), buf[written:], oob, nil, 0)
			if e == unix.EINTR {
				continue
			}
			if e == unix.EAGAIN {
				return false
			}
			if e != nil {
				serr = e
				return true
			}
			oob = nil
			written += n
		}
		return true
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("send %s message: %w", msgName(t), err)
	}
	return nil
}

func (c *syncConn) sendJSON(t uint32, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s message: %w", msgName(t), err)
	}
	return c.send(t, b)
}

// recv reads one frame. Any fds passed with it are returned as close-on-exec files.
func (c *syncConn) recv() (uint32, []byte, []*os.File, error) {
	hdr := make([]byte, 8)
	oob := make([]byte, unix.CmsgSpace(4*4))
	rc, err := c.f.SyscallConn()
	if err != nil {
		return 0, nil, nil, err
	}
	var n, oobn int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		for {
			n, oobn, _, _, rerr = unix.Recvmsg(int(fd), hdr, oob, unix.MSG_CMSG_CLOEXEC)
			if rerr == unix.EINTR {
				continue
			}
			return rerr != unix.EAGAIN
		}
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return 0, nil, nil, fmt.Errorf("receive message: %w", err)
	}
	if n == 0 {
		return 0, nil, nil, io.EOF
	}
	var files []*os.File
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return 0, nil, nil, fmt.Errorf("parse control message: %w", err)
		}
		for _, m := range msgs {
			fds, err := unix.ParseUnixRights(&m)
			if err != nil {
				continue
			}
			for _, fd := range fds {
				files = append(files, os.NewFile(uintptr(fd), "received-fd"))
			}
		}
	}
	if n < 8 {
		if _, err := io.ReadFull(c.f, hdr[n:]); err != nil {
			return 0, nil, files, fmt.Errorf("receive message header: %w", err)
		}
	}
	length := binary.NativeEndian.Uint32(hdr[0:])
	t := binary.NativeEndian.Uint32(hdr[4:])
	if length < 4 || length-4 > maxFrame {
		return 0, nil, files, fmt.Errorf("receive message: bad frame length %d", length)
	}
	payload := make([]byte, length-4)
	if _, err := io.ReadFull(c.f, payload); err != nil {
		return 0, nil, files, fmt.Errorf("receive %s message: %w", msgName(t), err)
	}
	return t, payload, files, nil
}

// expect receives one frame of type want. A msgError frame becomes the returned error.
func (c *syncConn) expect(want uint32) ([]byte, []*os.File, error) {
	t, payload, files, err := c.recv()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("waiting for %s: peer closed the connection", msgName(want))
		}
		return nil, nil, err
	}
	if t == msgError {
		closeFiles(files)
		return nil, nil, decodeError(payload)
	}
	if t != want {
		closeFiles(files)
		return nil, nil, fmt.Errorf("protocol error: got %s message, want %s", msgName(t), msgName(want))
	}
	return payload, files, nil
}

func decodeError(payload []byte) error {
	var em errorMsg
	if json.Unmarshal(payload, &em) == nil && em.Message != "" {
		return errors.New(em.Message)
	}
	return errors.New(string(payload))
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

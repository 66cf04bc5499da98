package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"
)

// logger writes runc-style log lines: text (`time="…" level=error msg="…"`) or one JSON object
// per line ({"level","msg","time"}), to the --log file, and errors also to stderr.
type logger struct {
	out   io.Writer
	file  bool
	json  bool
	debug bool
}

func openLogger(path, format string, debug bool) (*logger, error) {
	l := &logger{out: os.Stderr, debug: debug}
	switch format {
	case "text", "":
	case "json":
		l.json = true
	default:
		return nil, fmt.Errorf("--log-format: unknown format %q (text or json)", format)
	}
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return nil, fmt.Errorf("--log %s: %w", path, err)
		}
		l.out, l.file = f, true
	}
	return l, nil
}

func (l *logger) line(level, msg string, asJSON bool) []byte {
	now := time.Now().Format(time.RFC3339Nano)
	if asJSON {
		b, _ := json.Marshal(map[string]string{"level": level, "msg": msg, "time": now})
		return append(b, '\n')
	}
	return []byte(fmt.Sprintf("time=%q level=%s msg=%s\n", now, level, strconv.Quote(msg)))
}

func (l *logger) write(level, msg string) {
	l.out.Write(l.line(level, msg, l.json))
}

func (l *logger) Warnf(format string, args ...any) { l.write("warning", fmt.Sprintf(format, args...)) }

func (l *logger) Debugf(format string, args ...any) {
	if l.debug {
		l.write("debug", fmt.Sprintf(format, args...))
	}
}

// Error logs err; the line goes to stderr as well when the log is a file, because engines
// show stderr and containerd reads the last error of log.json.
func (l *logger) Error(err error) {
	l.write("error", err.Error())
	if l.file {
		os.Stderr.Write(l.line("error", err.Error(), false))
	}
}

func loggerOf(c *cli.Context) *logger {
	if l, ok := c.App.Metadata["logger"].(*logger); ok {
		return l
	}
	return &logger{out: os.Stderr}
}

// exitError carries a process exit status out of a command (foreground run).
type exitError struct{ code int }

func (e *exitError) Error() string { return "exit status " + strconv.Itoa(e.code) }

// codedError is an error that makes runo exit with a specific code (exec's 255).
type codedError struct {
	err  error
	code int
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func fatal(app *cli.App, err error) {
	var ee *exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	code := 1
	var ce *codedError
	if errors.As(err, &ce) {
		code = ce.code
	}
	l, ok := app.Metadata["logger"].(*logger)
	if !ok {
		l = &logger{out: os.Stderr}
	}
	l.Error(err)
	os.Exit(code)
}

module github.com/runo-dev/runo/tests/bench

go 1.26.0

require (
	github.com/moby/sys/mountinfo v0.7.3
	golang.org/x/image v0.48.0
	golang.org/x/sys v0.50.0
)

module github.com/runo-dev/runo/tests/engines

go 1.26.0

require github.com/moby/sys/mountinfo v0.7.3

require golang.org/x/sys v0.1.0 // indirect

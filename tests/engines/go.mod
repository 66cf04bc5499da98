module github.com/runo-dev/runo/tests/engines

go 1.26.0

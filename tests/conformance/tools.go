//go:build tools

// Package conformance pins the runtime-tools validation suite as a module
// requirement. The programs are built straight from the module cache by
// conformance.mk; this file only exists so that the requirement (and the
// dependency pins below it in go.mod) survive a `go mod tidy` of this nested
// module, which would otherwise see no importer and drop them.
package conformance

import (
	_ "github.com/opencontainers/runtime-tools/cmd/runtimetest"
	_ "github.com/opencontainers/runtime-tools/validation/util"
)

// Package nsenter links in the C constructor (nsenter.c) that enters and creates namespaces
// before the Go runtime starts. Importing it for its side effect is all a binary needs; the
// constructor does nothing unless the process was started as `runo init` by the runtime.
package nsenter

/*
#cgo CFLAGS: -Wall -O2
*/
import "C"

package reassembly

import "unsafe"

// prefetch asks the processor to bring the n bytes at p into its cache
// (at least one line, whatever n). It reads nothing and never faults.
//
//go:noescape
func prefetch(p unsafe.Pointer, n uintptr)

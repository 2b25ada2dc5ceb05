//go:build !amd64

package reassembly

import "unsafe"

// prefetch does nothing where no instruction for it is written.
func prefetch(p unsafe.Pointer, n uintptr) {}

package reassembly

import (
	"testing"
	"unsafe"
)

// TestPrefetchReadsNothing: prefetch is a hint that never faults, whatever
// it is given: nil, a length of 0, the last bytes of an object.
func TestPrefetchReadsNothing(t *testing.T) {
	b := make([]byte, 3000)
	prefetch(nil, 0)
	prefetch(nil, 4096)
	prefetch(unsafe.Pointer(&b[0]), 0)
	prefetch(unsafe.Pointer(&b[0]), uintptr(len(b)))
	prefetch(unsafe.Pointer(&b[len(b)-1]), 1)
	c := new(Conn)
	prefetch(unsafe.Pointer(c), unsafe.Sizeof(*c))
	if c.ID != 0 || b[0] != 0 {
		t.Fatal("prefetch changed memory")
	}
}

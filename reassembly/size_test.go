package reassembly

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// pointerFields returns the paths of the fields of t that hold pointers.
func pointerFields(t reflect.Type, path string) []string {
	switch t.Kind() {
	case reflect.Struct:
		var ps []string
		for i := range t.NumField() {
			f := t.Field(i)
			p := f.Name
			if path != "" {
				p = path + "." + f.Name
			}
			ps = append(ps, pointerFields(f.Type, p)...)
		}
		return ps
	case reflect.Array:
		if t.Len() == 0 {
			return nil
		}
		return pointerFields(t.Elem(), path+"[]")
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Chan, reflect.Func,
		reflect.Interface, reflect.String, reflect.UnsafePointer:
		return []string{path}
	}
	return nil
}

// TestConnSize: the table allocates a Conn per connection. With the 8-byte
// header the allocator puts before an object of this size, 2040 bytes fill
// the 2048-byte size class; a few bytes more would cost 256 per connection.
// Zeek's view of the connection (zeek.Conn) is about 800 of them, the
// state machines about 630. The pointers are the addresses' zone handles,
// the times' locations, the list links and the machine's overflow history,
// all before the large pointer-free rest, so that the garbage collector
// scans about a quarter of a Conn.
func TestConnSize(t *testing.T) {
	size := unsafe.Sizeof(Conn{})
	t.Logf("Conn: %d bytes", size)
	if size > 2040 {
		t.Errorf("Conn is %d bytes, more than 2040", size)
	}
	var got []string
	for _, p := range pointerFields(reflect.TypeFor[Conn](), "") {
		if top, _, _ := strings.Cut(p, "."); top != "Machine" {
			p = top // inside netip.AddrPort and time.Time: theirs
		}
		got = append(got, p)
	}
	want := []string{"Client", "Server", "First", "Last", "prev", "next", "Machine.spill"}
	if !slices.Equal(got, want) {
		t.Errorf("fields of Conn with pointers: %q, want %q", got, want)
	}
}

// TestTupleHasNoPointers: the key of the table's map is plain memory.
func TestTupleHasNoPointers(t *testing.T) {
	if got := pointerFields(reflect.TypeFor[tuple](), ""); len(got) != 0 {
		t.Errorf("tuple has pointers: %q", got)
	}
	if size := unsafe.Sizeof(tuple{}); size != 40 {
		t.Errorf("tuple is %d bytes, want 40 (no padding)", size)
	}
}

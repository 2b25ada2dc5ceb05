package reassembly

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/tcpstate/tcpstate/fsm"
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

// TestConnSize: the table allocates a Conn and its body per connection.
// A Conn, which is what a packed connection keeps besides its image, is
// three cache lines (192 bytes, a size class: a slab of slabConns is one
// too), all of which a segment reads. The body is in the 1792-byte class:
// with the 8-byte header the allocator puts before an object of this
// size, 1784 bytes fill it. Zeek's view of the connection (zeek.Conn) is
// about 700 of them, the state machines about 630.
func TestConnSize(t *testing.T) {
	size, bsize := unsafe.Sizeof(Conn{}), unsafe.Sizeof(body{})
	t.Logf("Conn: %d bytes, body: %d bytes", size, bsize)
	if size != 192 {
		t.Errorf("Conn is %d bytes, want 192", size)
	}
	if bsize > 1784 {
		t.Errorf("body is %d bytes, more than 1784", bsize)
	}
	var got []string
	for _, p := range pointerFields(reflect.TypeFor[Conn](), "") {
		top, _, _ := strings.Cut(p, ".")
		got = append(got, top) // inside netip.AddrPort and time.Time: theirs
	}
	want := []string{"Client", "Server", "prev", "next", "body", "imageData"}
	if !slices.Equal(got, want) {
		t.Errorf("fields of Conn with pointers: %q, want %q", got, want)
	}
}

// TestBodyLayout: pack copies a body's memory after its first field, the
// Machine's overflow history, as plain words. That field must be a slice
// at offset 0 and nothing after it may hold a pointer; the garbage
// collector then scans only the first word of a body, too.
func TestBodyLayout(t *testing.T) {
	mt := reflect.TypeFor[fsm.Machine]()
	if f := mt.Field(0); f.Offset != 0 || f.Type.Kind() != reflect.Slice || unsafe.Offsetof(body{}.Machine) != 0 {
		t.Fatalf("the Machine's first field is %s %s at %d, want a slice at offset 0 of the body", f.Name, f.Type, f.Offset)
	}
	got := pointerFields(reflect.TypeFor[body](), "")
	if want := []string{"Machine.spill"}; !slices.Equal(got, want) {
		t.Errorf("fields of body with pointers: %q, want %q", got, want)
	}
	if unsafe.Sizeof(body{})%8 != 0 || bodyPlain != 24 {
		t.Errorf("body is %d bytes with plain values from %d: not whole words after a slice header", unsafe.Sizeof(body{}), bodyPlain)
	}
}

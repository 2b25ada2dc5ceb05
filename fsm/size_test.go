package fsm

import (
	"reflect"
	"slices"
	"testing"
	"unsafe"
)

// pointerFields returns the paths of the fields of t that hold pointers:
// what the garbage collector follows in every value of t.
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

// TestMachineSize: a table holds a Machine for every connection. Keep it
// small, and free of pointers but for the overflow history (nil for an
// ordinary connection), so that the garbage collector has next to nothing
// to follow in it.
func TestMachineSize(t *testing.T) {
	sizes := []struct {
		name      string
		size, max uintptr
	}{
		{"Machine", unsafe.Sizeof(Machine{}), 632},
		{"Endpoint", unsafe.Sizeof(Endpoint{}), 136},
		{"transition", unsafe.Sizeof(transition{}), 24},
		{"entry", unsafe.Sizeof(entry{}), 8},
	}
	for _, s := range sizes {
		t.Logf("%s: %d bytes", s.name, s.size)
		if s.size > s.max {
			t.Errorf("%s is %d bytes, more than %d", s.name, s.size, s.max)
		}
	}
	if got := pointerFields(reflect.TypeFor[Machine](), ""); !slices.Equal(got, []string{"spill"}) {
		t.Errorf("fields of Machine with pointers: %q, want only spill", got)
	}
}

package browser

import (
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestScreenshot(t *testing.T) {
	if _, err := Find(); errors.Is(err, ErrNotFound) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true: CI installs chromium, so this is a failure, not a skip)", err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	svg := filepath.Join(dir, "square.svg")
	const doc = `<svg xmlns="http://www.w3.org/2000/svg" width="600" height="300" viewBox="0 0 600 300">` +
		`<rect width="600" height="300" fill="#ffffff"/><rect x="100" y="50" width="200" height="200" fill="#000000"/></svg>`
	if err := os.WriteFile(svg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "square.png")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := Screenshot(ctx, svg, out, 600, 300); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 600 || b.Dy() != 300 {
		t.Fatalf("picture is %v, want 600×300", b)
	}
	for _, p := range []struct {
		x, y int
		dark bool
	}{{200, 150, true}, {450, 150, false}, {50, 20, false}} {
		r, g, b, _ := img.At(p.x, p.y).RGBA()
		if dark := r+g+b < 3*0x4000; dark != p.dark {
			t.Errorf("pixel (%d,%d) = %04x %04x %04x, want dark=%v", p.x, p.y, r, g, b, p.dark)
		}
	}
}

func TestScreenshotMissingFile(t *testing.T) {
	if _, err := Find(); err != nil {
		t.Skip(err)
	}
	err := Screenshot(context.Background(), filepath.Join(t.TempDir(), "missing.svg"), filepath.Join(t.TempDir(), "x.png"), 600, 300)
	if err == nil {
		t.Fatal("no error for a missing file")
	}
}

package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrNotFound is returned by Find when no Chromium or Chrome is installed.
var ErrNotFound = errors.New("browser: no chromium, chromium-browser or google-chrome on PATH or at /usr/bin/chromium (Debian: apt-get install chromium)")

// names are the browsers Find looks for, in order.
var names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the path of a headless-capable Chromium or Chrome: the first
// of chromium, chromium-browser and google-chrome on PATH, else
// /usr/bin/chromium. It returns ErrNotFound when there is none.
func Find() (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	const debian = "/usr/bin/chromium"
	if fi, err := os.Stat(debian); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return debian, nil
	}
	return "", ErrNotFound
}

// Screenshot renders file (an SVG or HTML file) in a headless Chromium
// window of width × height CSS pixels and writes what it shows to png. The
// browser runs without sandbox (so it works as root), without GPU, network
// services or a persistent profile; when ctx ends first, the browser and
// every process it started are killed.
//
// Headless Chromium has a minimum window size of about 500 × 200: smaller
// windows may give a blank picture.
func Screenshot(ctx context.Context, file, png string, width, height int) error {
	if width <= 0 || height <= 0 {
		return fmt.Errorf("browser: screenshot of %q: bad window size %d×%d", file, width, height)
	}
	bin, err := Find()
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return fmt.Errorf("browser: screenshot of %q: %w", file, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("browser: screenshot of %q: %w", file, err)
	}
	out, err := filepath.Abs(png)
	if err != nil {
		return fmt.Errorf("browser: screenshot of %q: %w", file, err)
	}
	profile, err := os.MkdirTemp("", "tcpstate-chromium-")
	if err != nil {
		return fmt.Errorf("browser: screenshot of %q: %w", file, err)
	}
	defer os.RemoveAll(profile)
	_ = os.Remove(out) // a stale picture must not pass for a new one

	cmd := exec.CommandContext(ctx, bin,
		"--headless",
		"--no-sandbox",
		"--disable-gpu",
		"--disable-quic",
		"--no-first-run",
		"--no-default-browser-check",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--disable-extensions",
		"--force-device-scale-factor=1",
		"--user-data-dir="+profile,
		"--hide-scrollbars",
		fmt.Sprintf("--window-size=%d,%d", width, height),
		"--screenshot="+out,
		"file://"+filepath.ToSlash(abs),
	)
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	ownProcessGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	killGroup(cmd)
	if ctx.Err() != nil {
		return fmt.Errorf("browser: screenshot of %q: %w", file, ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("browser: screenshot of %q: %s: %w%s", file, filepath.Base(bin), err, lastLines(stderr.String()))
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
		return fmt.Errorf("browser: screenshot of %q: %s wrote no picture%s", file, filepath.Base(bin), lastLines(stderr.String()))
	}
	return nil
}

// lastLines returns the end of the browser's output for an error message,
// without the noise of a machine that has no D-Bus.
func lastLines(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.Contains(l, "dbus") {
			keep = append(keep, l)
		}
	}
	if len(keep) > 5 {
		keep = keep[len(keep)-5:]
	}
	if len(keep) == 0 {
		return ""
	}
	return ": " + strings.Join(keep, "; ")
}

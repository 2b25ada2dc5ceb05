package netlab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// captureStartTimeout bounds the wait for tcpdump to start capturing.
const captureStartTimeout = 10 * time.Second

// captureSettle is how long Stop lets tcpdump write the packets that are
// already on their way before asking it to stop.
const captureSettle = 100 * time.Millisecond

// Capture is a tcpdump process writing a pcap file inside a namespace.
type Capture struct {
	// File is the pcap file tcpdump writes.
	File string

	cmd    *exec.Cmd
	waited chan struct{} // closed when the process has exited
	err    error         // Wait's error, valid once waited is closed

	mu     sync.Mutex
	stderr bytes.Buffer
}

// CaptureStats are the counters tcpdump prints when it stops.
type CaptureStats struct {
	Captured int // packets written to the file
	Received int // packets the filter saw ("received by filter")
	Dropped  int // packets the kernel dropped for lack of buffer space
}

// StartCapture starts tcpdump on iface inside the namespace, writing every
// packet to file as soon as it is seen (-U, --immediate-mode), and returns
// once tcpdump has opened the interface and is capturing. extra is added to
// the command line: options such as "-y", "LINUX_SLL2", then an optional
// filter expression such as "tcp". The capture is stopped by Stop, or killed
// when the namespace is closed.
func (n *Namespace) StartCapture(iface, file string, extra ...string) (*Capture, error) {
	// -B: immediate mode makes libpcap use TPACKET_V2, whose ring has one
	// fixed frame per packet, sized for the largest packet the interface
	// carries (lo's MTU is 64 KiB): the default 2 MiB ring holds a few
	// dozen packets, which a burst can outrun while tcpdump waits for a
	// core on a loaded machine (a kernel oracle run in CI lost 4). 32 MiB
	// holds sixteen times as many.
	args := []string{"-n", "-U", "--immediate-mode", "-B", "32768", "-Z", "root", "-i", iface, "-w", file}
	args = append(args, extra...)
	c := &Capture{File: file, waited: make(chan struct{})}
	c.cmd = n.Command(context.Background(), "tcpdump", args...)
	c.cmd.SysProcAttr = sysProcAttr()
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("netlab: tcpdump: %w", err)
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("netlab: start tcpdump: %w", err)
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		c.cmd.Process.Kill()
		c.cmd.Wait()
		return nil, fmt.Errorf("netlab: namespace %s is closed", n.Name)
	}
	n.captures = append(n.captures, c)
	n.mu.Unlock()

	listening := make(chan struct{})
	go func() {
		// tcpdump says "listening on IFACE, link-type ..." on standard error
		// right before its capture loop, after the interface is bound and
		// the filter installed.
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			c.stderr.WriteString(line + "\n")
			c.mu.Unlock()
			if strings.Contains(line, "listening on ") {
				once.Do(func() { close(listening) })
			}
		}
		io.Copy(io.Discard, stderr)
		c.err = c.cmd.Wait()
		close(c.waited)
	}()

	select {
	case <-listening:
		return c, nil
	case <-c.waited:
		n.forget(c)
		return nil, fmt.Errorf("netlab: tcpdump %s exited before capturing: %s", strings.Join(args, " "), c.stderrText())
	case <-time.After(captureStartTimeout):
		c.kill()
		n.forget(c)
		return nil, fmt.Errorf("netlab: tcpdump %s did not start capturing within %v: %s",
			strings.Join(args, " "), captureStartTimeout, c.stderrText())
	}
}

// Stop asks tcpdump to stop (SIGINT), waits until it has exited, so the file
// is complete, and returns its counters. Packets sent up to the call are in
// the file: Stop first gives tcpdump a moment to write them.
func (c *Capture) Stop() (CaptureStats, error) {
	select {
	case <-c.waited:
		return CaptureStats{}, fmt.Errorf("netlab: tcpdump had already exited: %v: %s", c.err, c.stderrText())
	default:
	}
	time.Sleep(captureSettle)
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return CaptureStats{}, fmt.Errorf("netlab: stop tcpdump: %w", err)
	}
	select {
	case <-c.waited:
	case <-time.After(10 * time.Second):
		c.kill()
		return CaptureStats{}, fmt.Errorf("netlab: tcpdump ignored SIGINT for 10s; killed: %s", c.stderrText())
	}
	if c.err != nil {
		return CaptureStats{}, fmt.Errorf("netlab: tcpdump: %v: %s", c.err, c.stderrText())
	}
	return parseCaptureStats(c.stderrText()), nil
}

// kill ends tcpdump without waiting for a clean stop.
func (c *Capture) kill() {
	select {
	case <-c.waited:
		return
	default:
	}
	c.cmd.Process.Kill()
	<-c.waited
}

func (c *Capture) stderrText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.TrimSpace(c.stderr.String())
}

func (n *Namespace) forget(c *Capture) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, x := range n.captures {
		if x == c {
			n.captures = append(n.captures[:i], n.captures[i+1:]...)
			return
		}
	}
}

var statsLine = regexp.MustCompile(`(?m)^(\d+) packets? (captured|received by filter|dropped by kernel)$`)

func parseCaptureStats(text string) CaptureStats {
	var s CaptureStats
	for _, m := range statsLine.FindAllStringSubmatch(text, -1) {
		v, _ := strconv.Atoi(m[1])
		switch m[2] {
		case "captured":
			s.Captured = v
		case "received by filter":
			s.Received = v
		case "dropped by kernel":
			s.Dropped = v
		}
	}
	return s
}

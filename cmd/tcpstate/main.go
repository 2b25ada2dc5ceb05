// Command tcpstate reconstructs, from a packet capture, the RFC 9293 state
// of both endpoints of every TCP connection, and shows them as a netstat
// socket table, as a connection table, or as JSON.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// gcPercent is the garbage collector's target, unless GOGC sets one, once
// the connection table holds steady (before that, see gcpace.go): the heap
// may grow by a fifth over what was live at the last collection, not
// double as by Go's default. Nearly all of the heap is the table, which
// lives long and makes little garbage, so collecting sooner costs next to
// no time and keeps the peak near what the connections need, however long
// the capture: a long capture reaches the goal again and again where a
// short one ends before it, so the headroom is most of what the first
// peaks above the second. (A 30-minute capture of a busy server against
// its first 3 minutes, largest of 4 runs: conns 61 against 51 MiB at a
// quarter, 1.20x; 60 against 51 at a fifth, 1.18x, netstat 1.10x; 57
// against 50 at 15%, but with as many collections again, 5% more CPU
// time on the short one. At Go's default: 115 MiB.)
const gcPercent = 20

func main() {
	// A closed pipe (tcpstate ... | head) ends the program quietly.
	signal.Ignore(syscall.SIGPIPE)
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	setPace()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK      = 0
	exitError   = 1 // bad usage, or a capture that could not be opened
	exitDamaged = 2 // a capture was damaged: results up to the damage were printed
)

// run executes the command line args and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root, stop := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if perr := stop(); err == nil {
		err = perr
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errBrokenPipe):
		return exitOK
	}
	fmt.Fprintf(stderr, "tcpstate: %v\n", err)
	var d *damagedError
	if errors.As(err, &d) {
		return exitDamaged
	}
	return exitError
}

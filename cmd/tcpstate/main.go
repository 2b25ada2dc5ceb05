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
	"runtime"
	"runtime/debug"
	"syscall"
)

// gcPercent is the garbage collector's target, unless GOGC sets one: the
// heap may grow by a quarter over what was live at the last collection,
// not double as by Go's default. Nearly all of the heap is the connection
// table, which lives long and makes little garbage, so once the table
// holds steady collecting sooner costs next to no time (a 30-minute
// capture of a busy server: the same CPU time as at 50) and keeps the peak
// near what the connections need, however long the capture (that capture:
// 80 MiB, where its first 3 minutes peak at 70 MiB; 115 MiB by Go's
// default). While the table grows, each collection marks it again: a
// capture whose table grows to its end takes 8-14% more CPU time than at
// 100.
const gcPercent = 25

// gcFloor is heap the program allocates once and never writes (unless
// GOGC or GOMEMLIMIT is set): the collector counts it as live, so the heap
// may grow by a quarter of the table plus gcFloor between collections,
// where a small table growing from nothing would be collected every few
// MiB, each collection marking the whole table again. Never written, it is
// given no memory by the kernel: resident memory does not change (a 1M-
// packet capture of 90k connections: 92 MiB either way; a 30-minute steady
// capture: 80 MiB either way), and the run is shorter (0.33 -> 0.29 s).
const gcFloor = 32 << 20

// floor holds the gcFloor allocation for the life of the program.
var floor []byte

func main() {
	// A closed pipe (tcpstate ... | head) ends the program quietly.
	signal.Ignore(syscall.SIGPIPE)
	_, gogc := os.LookupEnv("GOGC")
	_, limit := os.LookupEnv("GOMEMLIMIT")
	if !gogc {
		debug.SetGCPercent(gcPercent)
	}
	if !gogc && !limit {
		floor = make([]byte, gcFloor)
	}
	code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	runtime.KeepAlive(floor)
	os.Exit(code)
}

// Exit codes.
const (
	exitOK      = 0
	exitError   = 1 // bad usage, or a capture that could not be opened
	exitDamaged = 2 // a capture was damaged: results up to the damage were printed
)

// run executes the command line args and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
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

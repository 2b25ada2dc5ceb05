//go:build linux

package netlab

import (
	"fmt"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// nsHandle is an open file descriptor of a namespace's /run/netns entry.
type nsHandle int

const noHandle nsHandle = -1

func supported() error { return nil }

func openNamespace(name string) (nsHandle, error) {
	fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return noHandle, err
	}
	return nsHandle(fd), nil
}

func (h nsHandle) close() error { return unix.Close(int(h)) }

// do runs f on a goroutine locked to an OS thread that has entered the
// namespace. When f returns the thread goes back to its original namespace
// and is released to the scheduler; if that fails the goroutine exits still
// locked, which makes the Go runtime destroy the thread, so no other goroutine
// ever runs in the wrong namespace. A panic in f is re-raised in the caller.
func (h nsHandle) do(f func() error) error {
	type result struct {
		err       error
		panicking bool
		panicVal  any
	}
	done := make(chan result, 1)
	go func() {
		res := result{err: fmt.Errorf("netlab: function run in namespace called runtime.Goexit")}
		defer func() { done <- res }()
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			res.err = fmt.Errorf("netlab: open current namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(int(h), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			res.err = fmt.Errorf("netlab: enter namespace: %w", err)
			return
		}
		defer func() {
			if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
				runtime.UnlockOSThread()
			}
		}()
		defer func() {
			if v := recover(); v != nil {
				res = result{panicking: true, panicVal: v}
			}
		}()
		res = result{err: f()}
	}()
	res := <-done
	if res.panicking {
		panic(res.panicVal)
	}
	return res.err
}

func processAlive(pid int) bool {
	return unix.Kill(pid, 0) != unix.ESRCH
}

// sysProcAttr makes a helper process die with the test binary, should the
// binary be killed before its cleanup runs. (Pdeathsig fires when the
// starting OS thread exits; Do never lets a thread exit unless it cannot
// leave a namespace.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

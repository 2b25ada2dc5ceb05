//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
)

// peakKiB returns the peak resident memory of a process that has ended,
// in KiB, or 0 when the system does not say.
func peakKiB(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss) / 1024 // bytes there
	}
	return int64(ru.Maxrss) // int32 on some 32-bit systems
}

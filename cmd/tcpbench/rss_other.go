//go:build !unix

package main

import "os"

// peakKiB returns 0: the peak memory of a process is read from getrusage,
// which this system does not have.
func peakKiB(*os.ProcessState) int64 { return 0 }

//go:build unix

package main

import (
	"os"
	"syscall"
)

// giveToDirOwner chowns file to the owner of dir (best effort).
func giveToDirOwner(file, dir string) {
	fi, err := os.Stat(dir)
	if err != nil {
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		os.Chown(file, int(st.Uid), int(st.Gid))
	}
}

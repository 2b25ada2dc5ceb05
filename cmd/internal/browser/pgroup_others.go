//go:build !unix

package browser

import "os/exec"

// ownProcessGroup leaves cmd as it is: without Unix process groups,
// cancelling kills the browser process only.
func ownProcessGroup(cmd *exec.Cmd) {}

// killGroup does nothing: there is no process group to clean up.
func killGroup(cmd *exec.Cmd) {}

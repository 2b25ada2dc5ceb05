package main

import (
	"fmt"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// cpuProfile is --cpuprofile: a CPU profile of the whole run, for go tool
// pprof, and what the profile-guided build of tcpstate is made from
// (default.pgo beside main.go; see the README's performance section).
type cpuProfile struct {
	path string
	file *atomicFile
}

// addCPUProfileFlag registers --cpuprofile on root for every command. It
// is hidden: it is for looking into tcpstate, not into captures.
func addCPUProfileFlag(root *cobra.Command, p *cpuProfile) {
	fs := root.PersistentFlags()
	fs.StringVar(&p.path, "cpuprofile", "", "write a CPU profile of the run to `FILE`, for go tool pprof")
	_ = fs.MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		var inputs []string
		if f := cmd.Flags().Lookup("read"); f != nil {
			inputs, _ = cmd.Flags().GetStringArray("read")
		}
		return p.start(inputs)
	}
}

// start begins profiling into p.path, if it is set; the file appears when
// stop completes it. Like every output, it never replaces a capture being
// read.
func (p *cpuProfile) start(inputs []string) error {
	if p.path == "" {
		return nil
	}
	f, err := createAtomic(p.path, inputs)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.abort()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	p.file = f
	return nil
}

// stop ends the profile started, if any, and writes its file.
func (p *cpuProfile) stop() error {
	if p.file == nil {
		return nil
	}
	pprof.StopCPUProfile()
	f := p.file
	p.file = nil
	if err := f.commit(); err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	return nil
}

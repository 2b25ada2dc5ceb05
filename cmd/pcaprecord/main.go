// Command pcaprecord records the real-traffic sample captures in pcaps/: small
// captures of the Linux kernel's own TCP, made in throw-away network
// namespaces (see cmd/internal/netlab), each a few to a few dozen packets.
//
// Usage (as root):
//
//	go run ./cmd/pcaprecord -out pcaps              # every sample
//	go run ./cmd/pcaprecord -out pcaps -only reset  # some: comma-separated names
//	go run ./cmd/pcaprecord -list                   # names and descriptions
//
// Before stopping each capture the recorder checks with ss that every
// endpoint is in the state pcaps/README.md documents, so a sample never
// silently shows something else. Written files take the owner of the output
// directory, so a sudo run leaves no root-owned files in the work tree.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tcpstate/tcpstate/cmd/internal/netlab"
)

func main() {
	out := flag.String("out", "pcaps", "directory to write the captures into")
	only := flag.String("only", "", "comma-separated sample names to record (default: all; see -list)")
	list := flag.Bool("list", false, "list the samples and exit")
	flag.Parse()
	if *list {
		for _, s := range samples {
			fmt.Printf("%-16s %s\n                 %s\n", s.name, strings.Join(s.files, ", "), s.about)
		}
		return
	}
	if err := recordAll(*out, *only); err != nil {
		fmt.Fprintf(os.Stderr, "pcaprecord: %v\n", err)
		os.Exit(1)
	}
}

func recordAll(out, only string) error {
	var chosen []sample
	names := strings.FieldsFunc(only, func(r rune) bool { return r == ',' || r == ' ' })
	for _, s := range samples {
		if len(names) == 0 || slices.Contains(names, s.name) {
			chosen = append(chosen, s)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(samples, func(s sample) bool { return s.name == n }) {
			return fmt.Errorf("no sample named %q (see -list)", n)
		}
	}
	if err := netlab.Check(); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "pcaprecord")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, s := range chosen {
		pcap := filepath.Join(tmp, s.name+".pcap")
		stats, err := s.record(pcap)
		for try := 2; errors.Is(err, errDropped) && try <= 3; try++ {
			fmt.Fprintf(os.Stderr, "pcaprecord: %s: %v; recording again (try %d of 3)\n", s.name, err, try)
			stats, err = s.record(pcap)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		for _, f := range s.files {
			dst := filepath.Join(out, f)
			if err := writeAs(pcap, dst, s.iface); err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			giveToDirOwner(dst, out)
			fmt.Printf("wrote %s (%d packets)\n", dst, stats.Captured)
		}
	}
	return nil
}

package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tcpstate/tcpstate/reassembly"
)

type diagramOptions struct {
	sourceOptions
	output string
	conns  []string
}

func newDiagramCmd(st *streams) *cobra.Command {
	o := &diagramOptions{}
	cmd := &cobra.Command{
		Use:   "diagram (-r FILE | -i IFACE) [CONN...] [-o diagram.svg]",
		Short: "RFC 9293's state diagram as SVG, with the transitions the connections took highlighted",
		Long: `Draw the classic TCP state diagram of RFC 9293 as an SVG picture, with the
transitions that the selected connections took highlighted and counted, the
client's and the server's in different colours. Transitions that are not
edges of the RFC's figure (a RST closing ESTABLISHED, a capture picked up
mid-stream, a handshake given up) are listed below it. Inferred transitions
that later packets revised are not counted: they never happened.

CONN selects connections as for ladder: an id from "tcpstate conns" or an
address pair; without CONN all connections count.`,
		Example: `  tcpstate diagram -r handshake.pcap -o states.svg
  tcpstate diagram -r capture.pcap 3 > connection-3.svg`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.conns = args
			return runDiagram(o, st)
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().Lookup("json").Hidden = true
	cmd.Flags().Lookup("color").Hidden = true
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "write to `FILE` instead of standard output; the file appears complete or not at all")
	return cmd
}

func runDiagram(o *diagramOptions, st *streams) error {
	if err := o.validate(); err != nil {
		return err
	}
	sel, err := parseConnSelector(o.conns)
	if err != nil {
		return err
	}
	a, err := analyze(&o.sourceOptions, st, analyzeOptions{plain: true})
	if err != nil {
		return err
	}
	var picked []*reassembly.Conn
	for _, c := range a.conns {
		if sel.match(c) {
			picked = append(picked, c)
		}
	}
	if u := sel.unmatched(); u != "" && a.err == nil {
		return fmt.Errorf("no connection %s in the capture (tcpstate conns lists them)", u)
	}
	m := &diagramModel{Title: diagramTitle(o.files, picked)}
	for _, c := range picked {
		for _, tr := range c.Machine.History() {
			if tr.Revised || tr.Revision {
				continue
			}
			m.add(tr.Role, tr.From, tr.To)
		}
	}
	err = renderTo(o.output, o.files, st.stdout, func(out io.Writer) error {
		return writeBuffered(out, func(w io.Writer) error { return renderStateDiagram(w, m) })
	})
	return a.finish(&o.sourceOptions, st, err)
}

func diagramTitle(files []string, picked []*reassembly.Conn) string {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)
		if f == "-" {
			names[i] = "standard input"
		}
	}
	t := strings.Join(names, ", ") + ": "
	if len(picked) == 1 {
		c := picked[0]
		return t + fmt.Sprintf("connection %d, %s → %s", c.ID, c.Client, c.Server)
	}
	return t + plural(uint64(len(picked)), "connection")
}

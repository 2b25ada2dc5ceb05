package main

import (
	"io"
	"os"
	"strings"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"

	"github.com/tcpstate/tcpstate/fsm"
)

// palette colours output. It is built per command from --color, never by
// changing fatih/color's global switch.
type palette struct {
	on     bool
	state  [11]*color.Color
	named  [11]string // each state's name, coloured
	header *color.Color
	faint  *color.Color
}

// colorEnabled decides --color=auto|always|never for the writer w.
func colorEnabled(mode string, w io.Writer) bool {
	switch strings.ToLower(mode) {
	case "always":
		return true
	case "never":
		return false
	}
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func newPalette(on bool) *palette {
	p := &palette{on: on}
	attrs := map[fsm.State][]color.Attribute{
		fsm.Closed:      {color.FgRed},
		fsm.Listen:      {color.FgCyan},
		fsm.SynSent:     {color.FgYellow},
		fsm.SynReceived: {color.FgYellow},
		fsm.Established: {color.FgGreen},
		fsm.FinWait1:    {color.FgMagenta},
		fsm.FinWait2:    {color.FgMagenta},
		fsm.CloseWait:   {color.FgRed, color.Bold},
		fsm.Closing:     {color.FgMagenta},
		fsm.LastAck:     {color.FgMagenta},
		fsm.TimeWait:    {color.FgBlue},
	}
	for s, a := range attrs {
		p.state[s] = p.color(a...)
		p.named[s] = p.state[s].Sprint(s.String())
	}
	p.header = p.color(color.Bold)
	p.faint = p.color(color.Faint)
	return p
}

func (p *palette) color(a ...color.Attribute) *color.Color {
	c := color.New(a...)
	if p.on {
		c.EnableColor()
	} else {
		c.DisableColor()
	}
	return c
}

// State colours s, padded to width w (padding outside the colour codes).
func (p *palette) State(s fsm.State, w int) string {
	name := s.String()
	pad := ""
	if n := w - len(name); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	if int(s) < len(p.named) && p.named[s] != "" {
		return p.named[s] + pad
	}
	return name + pad
}

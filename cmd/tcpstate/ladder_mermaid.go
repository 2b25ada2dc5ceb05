package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/tcpstate/tcpstate/fsm"
)

// The Mermaid ladder: a sequenceDiagram per connection, in a Markdown
// fence, that GitHub, GitLab and the like render where the Markdown is
// shown:
//
//	```mermaid
//	sequenceDiagram
//	    title Connection 1 (tcp)
//	    participant C as client 192.0.2.10#58;47000
//	    participant S as server 198.51.100.20#58;80
//	    Note over C: CLOSED
//	    Note over S: LISTEN
//	    C->>S: SYN seq=0 len=0 win=64240<br/>pkt 1 at 0.000000 s
//	    Note over C: SYN_SENT
//	    Note over S: SYN_RECEIVED (inferred)
//	```
//
// Mermaid's sequence grammar ends a text at '#' (a comment) and at ';' (a
// statement separator), and its renderer reads '<' as HTML. Every text that
// comes from the capture or the model (addresses, notes, tags, causes) is
// therefore written with Mermaid's entity codes for the characters that
// could break it, mermaidEscape's set, which the renderer turns back into
// the characters: "[2001:db8::1]:443" becomes "#91;2001#58;db8#58;#58;1#93;#58;443".
// The fixed words around them use none of those characters; "<br/>",
// written only by this file, is Mermaid's line break.

// mermaidBreak is a line break inside a Mermaid note or message.
const mermaidBreak = "<br/>"

// renderLadderMermaid writes, for each view, a Markdown-fenced ```mermaid
// block holding a sequenceDiagram, with the states as notes.
func renderLadderMermaid(w io.Writer, views []*ladderView) error {
	var b strings.Builder
	for i, v := range views {
		b.Reset()
		if i > 0 {
			b.WriteByte('\n')
		}
		writeLadderMermaid(&b, v)
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// mermaidParticipant is each role's name in the diagram.
var mermaidParticipant = [2]string{fsm.Client: "C", fsm.Server: "S"}

func writeLadderMermaid(b *strings.Builder, v *ladderView) {
	line := func(format string, a ...any) {
		b.WriteString("    ")
		fmt.Fprintf(b, format, a...)
		b.WriteByte('\n')
	}
	b.WriteString("```mermaid\nsequenceDiagram\n")
	line("title Connection %d (%s)", v.ID, mermaidEscape(v.Proto))
	line("participant C as client %s", mermaidEscape(v.Client.String()))
	line("participant S as server %s", mermaidEscape(v.Server.String()))

	var head []string
	for _, n := range v.Notes {
		head = append(head, mermaidEscape(n))
	}
	for _, r := range []fsm.Role{fsm.Client, fsm.Server} {
		if o := v.Options[r]; o.Seen {
			head = append(head, fmt.Sprintf("%s options %s", r, mermaidEscape(o.String())))
		}
	}
	if rtt := ladderRTT(v, "→"); rtt != "" {
		head = append(head, "handshake RTT "+mermaidEscape(rtt))
	}
	if v.Absolute {
		head = append(head, "seq and ack absolute")
	} else {
		head = append(head, fmt.Sprintf("seq and ack relative to the ISN (client %d, server %d)", v.ISN[fsm.Client], v.ISN[fsm.Server]))
	}
	line("Note over C,S: %s", strings.Join(head, mermaidBreak))

	for _, r := range []fsm.Role{fsm.Client, fsm.Server} {
		line("Note over %s: %s", mermaidParticipant[r], mermaidState(v.Initial[r], nil))
	}
	prev := [2]fsm.State{v.Initial[fsm.Client].State, v.Initial[fsm.Server].State}
	for i := range v.Rows {
		row := &v.Rows[i]
		from, to := mermaidParticipant[row.From], mermaidParticipant[row.From.Peer()]
		detail := fmt.Sprintf("pkt %d at %s s", row.Packet, ladderSeconds(row.Offset))
		if len(row.Tags) > 0 {
			detail += ", " + mermaidEscape(strings.Join(row.Tags, ", "))
		}
		line("%s->>%s: %s%s%s", from, to, mermaidEscape(strings.Join(ladderLabel(row), " ")), mermaidBreak, detail)
		for _, r := range []fsm.Role{fsm.Client, fsm.Server} {
			s := row.After[r]
			if s.Changed || s.Revision {
				line("Note over %s: %s", mermaidParticipant[r], mermaidState(s, ladderPassage(s, prev[r])))
			}
			prev[r] = s.State
		}
	}

	var end []string
	for _, r := range []fsm.Role{fsm.Client, fsm.Server} {
		// Timers after the last segment (TIME_WAIT running out).
		if s := v.Final[r]; s.Changed && s.Cause != "" {
			end = append(end, fmt.Sprintf("%s %s", r, mermaidEscape(s.Cause)))
		}
	}
	end = append(end, fmt.Sprintf("at the end client %s, server %s", mermaidState(v.Final[fsm.Client], nil), mermaidState(v.Final[fsm.Server], nil)))
	if v.Ending != "" {
		end = append(end, mermaidEscape(v.Ending))
	}
	line("Note over C,S: %s", strings.Join(end, mermaidBreak))
	b.WriteString("```\n")
}

// mermaidState is a state note: the state, or the passage through several,
// with what the text ladder's markers say in words.
func mermaidState(s ladderState, path []fsm.State) string {
	names := make([]string, 0, len(path))
	for _, p := range path {
		names = append(names, p.String())
	}
	if len(names) < 2 {
		names = []string{s.State.String()}
	}
	t := strings.Join(names, " → ")
	var marks []string
	switch {
	case s.Revised:
		marks = append(marks, "revised, never held")
	case s.Inferred:
		marks = append(marks, "inferred")
	}
	if s.Revision {
		marks = append(marks, "revision")
	}
	if len(marks) > 0 {
		t += " (" + strings.Join(marks, ", ") + ")"
	}
	if s.Revision && s.Cause != "" {
		t += mermaidBreak + mermaidEscape(s.Cause)
	}
	return t
}

// mermaidEscape writes the characters of s that Mermaid's sequence grammar
// or its HTML labels would take for syntax as Mermaid entity codes ("#58;"
// for ':'), and line breaks and other control characters as spaces.
func mermaidEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '#', ';', ':', '[', ']', '<', '>', '{', '}', '"', '%', '&', '`':
			fmt.Fprintf(&b, "#%d;", r)
		case '\n', '\r', '\t', '\v', '\f', 0x7f, '\u2028', '\u2029':
			b.WriteByte(' ')
		default:
			if r < 0x20 {
				r = ' '
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

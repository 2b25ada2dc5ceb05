package main

import "github.com/tcpstate/tcpstate/fsm"

// diagramModel is what the state-diagram picture shows: RFC 9293's state
// diagram with the transitions that the selected connections took
// highlighted and counted, client and server apart.
type diagramModel struct {
	// Title names the capture and the selection, e.g.
	// "handshake-close.pcap: connection 1" or "handshake-close.pcap: 3 connections".
	Title string
	// Counts holds, for each transition taken, how many times the client
	// (index fsm.Client) and the server (index fsm.Server) took it. Only
	// transitions that happened count: inferred ones that later packets
	// revised, and the revisions themselves, are left out.
	Counts map[diagramEdge]*[2]int
}

// diagramEdge is a transition from one state to another.
type diagramEdge struct {
	From, To fsm.State
}

// add counts one transition of the endpoint with role r.
func (m *diagramModel) add(r fsm.Role, from, to fsm.State) {
	if m.Counts == nil {
		m.Counts = make(map[diagramEdge]*[2]int)
	}
	e := diagramEdge{from, to}
	if m.Counts[e] == nil {
		m.Counts[e] = new([2]int)
	}
	m.Counts[e][r]++
}

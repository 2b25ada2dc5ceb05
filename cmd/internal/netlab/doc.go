// Package netlab is a small laboratory for real kernel TCP: it creates
// throw-away network namespaces (optionally joined by a veth pair), runs Go
// code inside them so tests can open listeners and connections with exact
// control (fixed source ports, half-close, SO_LINGER 0 aborts, sockets left
// open), adds iptables rules there, records the traffic with tcpdump, and reads
// the kernel's own view of every socket with ss.
//
// It exists so that tests and the sample recorder can ask Linux, the reference
// implementation, what state each endpoint is in, and compare that with what
// tcpstate infers from the capture (see Compare).
//
// Everything needs root and the tools ip, ss, tcpdump and iptables/ip6tables;
// tests call Require first, which skips (or, with CI=true, fails) when they are
// missing. Traffic stays on loopback or inside the namespaces netlab creates:
// veth pairs use the documentation ranges 192.0.2.0/24 and 2001:db8::/64.
// Every namespace, process and socket netlab makes is removed by
// Namespace.Close, which TestNamespace registers with t.Cleanup.
//
// The namespace switching (Namespace.Do) is Linux only; on other systems every
// constructor returns ErrUnsupported and Require skips.
package netlab

package zeek

// LikelyServerPort says whether port is in Zeek's likely_server_ports with
// the default scripts loaded: each analyzer under base/protocols adds its
// well-known TCP ports (its `ports` option) to that set. The list follows
// the scripts of Zeek 6 to 8; a site that loads more analyzers, or redefines
// a `ports` option, has more. FlipsOnCreate uses it to decide whether a
// connection first seen from a server port starts with its roles flipped.
func LikelyServerPort(port uint16) bool {
	switch port {
	case 21, 2811, // FTP
		22,      // SSH
		25, 587, // SMTP
		53,                                        // DNS over TCP
		79,                                        // Finger
		80, 81, 631, 1080, 3128, 8000, 8080, 8888, // HTTP (and SOCKS on 1080)
		88,       // Kerberos
		110,      // POP3
		135,      // DCE-RPC endpoint mapper
		139, 445, // SMB
		143,       // IMAP
		389, 3268, // LDAP
		443, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223, // SSL/TLS
		502,        // Modbus
		1434, 3306, // MySQL
		1883,       // MQTT
		3389,       // RDP
		5222, 5269, // XMPP
		5432,                   // PostgreSQL
		6666, 6667, 6668, 6669, // IRC
		20000: // DNP3
		return true
	}
	return false
}

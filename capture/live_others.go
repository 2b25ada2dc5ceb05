//go:build !linux && !libpcap

package capture

import "fmt"

// liveSupported says whether OpenLive works on this system.
const liveSupported = false

// OpenLive captures packets from a network interface. It needs Linux; here
// it fails with ErrLiveUnsupported.
func OpenLive(iface string, opt LiveOptions) (LiveSource, error) {
	return nil, &liveError{
		msg:  fmt.Sprintf("capture: live capture on %q: %v", iface, ErrLiveUnsupported),
		errs: []error{ErrLiveUnsupported},
	}
}

package netlab

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// T is the part of testing.TB that netlab uses; *testing.T satisfies it.
type T interface {
	Helper()
	Cleanup(func())
	Logf(format string, args ...any)
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// DefaultTools are the programs every netlab test needs.
var DefaultTools = []string{"ip", "ss", "tcpdump", "iptables", "ip6tables"}

// Require checks that the test can use netlab: Linux, root, and the programs
// in tools (DefaultTools when none are given) on PATH. When something is
// missing it skips the test with a message that says what, unless the
// environment has CI=true: CI must run these tests, so there it fails.
func Require(t T, tools ...string) {
	t.Helper()
	if err := Check(tools...); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true: kernel tests must run in CI, so this is a failure, not a skip)", err)
			return
		}
		t.Skipf("%v", err)
	}
}

// Check reports what Require would skip for, or nil when netlab can run.
func Check(tools ...string) error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("netlab: kernel tests need Linux network namespaces (this is %s)", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("netlab: kernel tests need root (network namespaces, iptables, tcpdump); run as root, e.g. sudo -E go test")
	}
	if len(tools) == 0 {
		tools = DefaultTools
	}
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("netlab: kernel tests need %s on PATH (Debian: apt-get install iproute2 tcpdump iptables)",
			strings.Join(missing, ", "))
	}
	return nil
}

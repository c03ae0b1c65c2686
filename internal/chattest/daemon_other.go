//go:build !linux

package chattest

import (
	"fmt"
	"syscall"
)

// daemonAttr runs a server as the test's own user: switching to another
// user is implemented for Linux only, where CI runs as root.
func daemonAttr(as *serverUser) (*syscall.SysProcAttr, error) {
	if as != nil {
		return nil, fmt.Errorf("running a server as user %s is supported on Linux only; run the tests as a normal user", as.name)
	}
	return nil, nil
}

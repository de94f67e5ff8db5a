//go:build !linux

package pgtest

import (
	"os/user"
	"syscall"
)

// procAttr: outside Linux the server runs as ourselves (running the tests
// as root is not supported there) and is stopped by Main only.
func procAttr(owner *user.User) *syscall.SysProcAttr { return nil }

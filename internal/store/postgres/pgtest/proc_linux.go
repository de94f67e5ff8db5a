package pgtest

import (
	"os/user"
	"strconv"
	"syscall"
)

// procAttr runs a server process as owner (nil: as ourselves) and has the
// kernel stop it (immediate shutdown) if the test binary dies first.
func procAttr(owner *user.User) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGQUIT}
	if owner != nil {
		uid, _ := strconv.ParseUint(owner.Uid, 10, 32)
		gid, _ := strconv.ParseUint(owner.Gid, 10, 32)
		attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	return attr
}

package chattest

import "syscall"

// daemonAttr makes a server die with the test binary (Pdeathsig) and, when
// as is not nil, run as that user. Switching the user through Credential
// rather than runuser or su keeps the server a direct child of the test:
// its signals reach the server itself, and no PAM session is opened. The
// kernel would clear Pdeathsig on the change of user, but Go sets it after
// switching.
func daemonAttr(as *serverUser) (*syscall.SysProcAttr, error) {
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if as != nil {
		// An empty Groups drops root's supplementary groups too.
		attr.Credential = &syscall.Credential{Uid: as.uid, Gid: as.gid, Groups: []uint32{}}
	}
	return attr, nil
}

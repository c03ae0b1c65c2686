package main

import "syscall"

// childAttr, süreci kendi süreç grubunda başlatır: terminaldeki Ctrl+C
// yalnızca bu komuta gider, süreçleri sırayla bu komut durdurur. Bu
// komut öldürülürse (kill -9) çekirdek süreçleri de öldürür (Pdeathsig).
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

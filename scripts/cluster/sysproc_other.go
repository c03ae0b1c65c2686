//go:build unix && !linux

package main

import "syscall"

// childAttr, süreci kendi süreç grubunda başlatır: terminaldeki Ctrl+C
// yalnızca bu komuta gider, süreçleri sırayla bu komut durdurur. Linux
// dışında çekirdek, bu komut öldürülünce (kill -9) süreçleri kendiliğinden
// öldürmez; onları o zaman elle durdurmak gerekir.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

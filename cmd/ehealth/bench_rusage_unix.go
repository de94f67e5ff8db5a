//go:build unix

package main

import (
	"os"
	"syscall"
)

// peakRSSOf is a finished process's peak resident set in bytes (Linux
// reports kilobytes), 0 when unknown.
func peakRSSOf(st *os.ProcessState) int64 {
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss) * 1024
	}
	return 0
}

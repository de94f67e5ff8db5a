//go:build !unix

package main

import "os"

// peakRSSOf is unknown off Unix.
func peakRSSOf(*os.ProcessState) int64 { return 0 }

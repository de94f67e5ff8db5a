package bulkdata_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/bulkdata"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// discardSink counts what an export writes and keeps nothing.
type discardSink struct{ bytes int64 }

func (s *discardSink) Create(string, int) (io.Writer, error) { return s, nil }
func (s *discardSink) Write(p []byte) (int, error)           { s.bytes += int64(len(p)); return len(p), nil }
func (s *discardSink) Close(bulkdata.File, []string) error   { return nil }

// peakRSS reads the process's peak resident set (VmHWM) in bytes; reset
// clears it first (Linux: /proc/self/clear_refs), so the peak is the
// benchmark's own. 0 where /proc is missing.
func peakRSS(reset bool) int64 {
	if reset {
		os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
		return 0
	}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// sampleHeap samples the live Go heap every millisecond until the
// returned function is called, which returns the largest seen.
func sampleHeap() func() uint64 {
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peakSeen uint64
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peakSeen = max(peakSeen, sample[0].Value.Uint64())
			select {
			case <-done:
				peak <- peakSeen
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-peak }
}

// BenchmarkExport exports a store of 10k and of 50k Observations (on each
// backend) and reports resources/s, the peak RSS during the export and the
// bytes allocated per resource: memory stays flat as the data grows (one
// page and one file's patient keys at a time).
func BenchmarkExport(b *testing.B) {
	for _, be := range platformtest.Backends {
		for _, n := range []int{10_000, 50_000} {
			b.Run(fmt.Sprintf("%s/%d", be.Name, n), func(b *testing.B) {
				p := platformtest.Open(b, be.Open(b))
				for start := 0; start < n; start += 1000 {
					var tx bytes.Buffer
					tx.WriteString(`{"resourceType":"Bundle","type":"transaction","entry":[`)
					for i := start; i < start+1000 && i < n; i++ {
						if i > start {
							tx.WriteByte(',')
						}
						fmt.Fprintf(&tx, `{"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},
 "subject":{"reference":"Patient/p%d"},"effectiveDateTime":"2024-01-01","valueQuantity":{"value":%d,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},"request":{"method":"POST","url":"Observation"}}`, i%500, 100+i%60)
					}
					tx.WriteString(`]}`)
					bundle, err := parseJSON(tx.Bytes())
					if err != nil {
						b.Fatal(err)
					}
					if _, err := p.Service.Bundle(b.Context(), operator, bundle, 0); err != nil {
						b.Fatal(err)
					}
				}
				debug.FreeOSMemory() // the load's garbage returned, so the peak is the export's
				peakRSS(true)
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				stopSampling := sampleHeap()
				b.ResetTimer()
				for b.Loop() {
					sink := &discardSink{}
					res, err := bulkdata.Run(b.Context(), p.Service, operator, bulkdata.Request{Level: bulkdata.System, Types: []string{"Observation"}}, sink, bulkdata.Options{})
					if err != nil || len(res.Files) != 1 || res.Files[0].Count != n {
						b.Fatalf("export: %v %+v", err, res.Files)
					}
				}
				b.StopTimer()
				heapPeak := stopSampling()
				runtime.ReadMemStats(&ms1)
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "resources/s")
				b.ReportMetric(float64(peakRSS(false))/(1<<20), "peakRSS-MiB")
				b.ReportMetric(float64(heapPeak)/(1<<20), "peakHeap-MiB")
				b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(n)/float64(b.N), "alloc-B/resource")
			})
		}
	}
}

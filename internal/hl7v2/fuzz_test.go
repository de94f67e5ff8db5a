package hl7v2

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse feeds any bytes to the parser and, when they parse, to every
// accessor, the ORU conversion and the ACK: none may panic, and an ACK is
// always a message that parses again. Seeds are in testdata/fuzz/FuzzParse, and the shared samples when
// ../shared is there.
func FuzzParse(f *testing.F) {
	f.Add([]byte(oruLipids))
	f.Add([]byte("MSH|^~\\&|a|b|c|d|2026||ORU^R01|1|P|2.5\rPID|||1\rOBR|1||F1|X^Y^LN|||||||||||||||||||F\rOBX|1|SN|A^B^LN||<^1^-^2|mg||H|||F"))
	// The shared samples, read at test time (never copied here).
	files, _ := filepath.Glob(filepath.Join(sharedDir, "*", "*.hl7"))
	for _, name := range files {
		if raw, err := os.ReadFile(name); err == nil {
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		ack := Ack(m, data, err, "A1", time.Unix(0, 0))
		if _, perr := Parse(ack); perr != nil {
			t.Fatalf("ACK %q does not parse: %v", ack, perr)
		}
		if err != nil {
			return
		}
		for _, s := range m.Segments {
			for n := 0; n <= s.Len()+1; n++ {
				for _, v := range s.Values(n) {
					_ = v.String()
					for c := 1; c <= 3; c++ {
						_ = v.Sub(c, 2)
					}
				}
			}
		}
		_, _ = ConvertORU(m, Options{})
	})
}

package journal

import "testing"

// FuzzDecodeCursor: a cursor either names a place in the journal — and
// then is the cursor of that place — or is refused; never a panic.
func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{"", encodeCursor(1), encodeCursor(123456), "MA", "LTE", "!!", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seq, err := decodeCursor(s)
		if err != nil || s == "" {
			return
		}
		if seq < 1 {
			t.Fatalf("decodeCursor(%q) = %d", s, seq)
		}
		if back, err := decodeCursor(encodeCursor(seq)); err != nil || back != seq {
			t.Fatalf("cursor of %d does not read back: %d, %v", seq, back, err)
		}
	})
}

package audit

import "testing"

// FuzzParseEventID: any id either names a journal entry — and then is
// exactly the id of that entry — or is refused; never a panic.
func FuzzParseEventID(f *testing.F) {
	for _, s := range []string{"j-1", "j-42", "j-0", "j-007", "j--1", "j-", "x-1", "j-9223372036854775807", "j-99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		seq, ok := ParseEventID(id)
		if !ok {
			return
		}
		if seq < 1 || EventID(seq) != id {
			t.Fatalf("ParseEventID(%q) = %d, but EventID(%d) = %q", id, seq, seq, EventID(seq))
		}
	})
}

package audit

import "testing"

// TestEventID: journal ids round-trip, and nothing else parses as one, so
// ordinary AuditEvent ids keep going to the store.
func TestEventID(t *testing.T) {
	if got := EventID(42); got != "j-42" {
		t.Errorf("EventID(42) = %q", got)
	}
	cases := []struct {
		id  string
		seq int64
		ok  bool
	}{
		{"j-1", 1, true},
		{"j-9007199254740993", 9007199254740993, true},
		{"j-0", 0, false},
		{"j-01", 0, false},
		{"j-", 0, false},
		{"j--1", 0, false},
		{"j-1a", 0, false},
		{"j-1234567890123456789", 0, false},
		{"J-1", 0, false},
		{"42", 0, false},
		{"5d1f0c8e-1b7a-4e7e-9d55-0e6f3f1f2a10", 0, false},
	}
	for _, c := range cases {
		seq, ok := ParseEventID(c.id)
		if seq != c.seq || ok != c.ok {
			t.Errorf("ParseEventID(%q) = %d, %v; want %d, %v", c.id, seq, ok, c.seq, c.ok)
		}
	}
}

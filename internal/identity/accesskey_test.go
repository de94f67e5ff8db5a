package identity

import "testing"

func TestAccessKey(t *testing.T) {
	const n = 10000
	seen := make(map[string]bool, n)
	var digitCount [8][10]int
	for range n {
		k := AccessKey()
		if !ValidAccessKey(k) {
			t.Fatalf("AccessKey() = %q, not 8 digits", k)
		}
		seen[k] = true
		for i := range 8 {
			digitCount[i][k[i]-'0']++
		}
	}
	// 10,000 draws from 10^8 collide with probability ~0.4%; more than a
	// couple of collisions means the generator is broken.
	if len(seen) < n-3 {
		t.Errorf("only %d distinct keys in %d", len(seen), n)
	}
	// Every digit should appear in every position about n/10 times: 700 is
	// more than 9 standard deviations below the mean of 1000.
	for i, counts := range digitCount {
		for d, c := range counts {
			if c < 700 {
				t.Errorf("digit %d appears only %d times at position %d", d, c, i)
			}
		}
	}
}

func TestValidAccessKey(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"01234567", true},
		{"99999999", true},
		{"1234567", false},
		{"123456789", false},
		{"1234567a", false},
		{"1234 567", false},
		{"１2345678", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidAccessKey(tt.in); got != tt.want {
			t.Errorf("ValidAccessKey(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

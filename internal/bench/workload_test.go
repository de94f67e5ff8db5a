package bench

import (
	"slices"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 200; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		pct  int
		want time.Duration
	}{
		{50, 100 * time.Millisecond},
		{95, 190 * time.Millisecond},
		{99, 198 * time.Millisecond},
		{100, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(lat, tt.pct); got != tt.want {
			t.Errorf("percentile(1..200 ms, %d) = %v, want %v", tt.pct, got, tt.want)
		}
	}
	if got := percentile(lat[:1], 99); got != time.Millisecond {
		t.Errorf("percentile of one sample = %v, want it", got)
	}
}

func TestQuote(t *testing.T) {
	if got, want := quote("O'Brien"), "'O''Brien'"; got != want {
		t.Errorf("quote = %s, want %s", got, want)
	}
}

func TestHalve(t *testing.T) {
	all := []string{"a", "b", "c", "d", "e", "f"}
	visible, queried := halve(all, []string{"b", "d", "f"})
	if want := []string{"b", "f", "a", "e"}; !slices.Equal(visible, want) {
		t.Errorf("visible = %v, want %v", visible, want)
	}
	if want := []string{"b", "f"}; !slices.Equal(queried, want) {
		t.Errorf("queried = %v, want %v", queried, want)
	}
}

func TestSelectMix(t *testing.T) {
	tests := []struct {
		names []string
		want  int
		err   bool
	}{
		{nil, len(mix), false},
		{[]string{"patient+code"}, 1, false},
		{[]string{"_summary=count"}, 2, false},
		{[]string{"patient+code", "_has"}, 2, false},
		{[]string{"nothing like it"}, 0, true},
	}
	for _, tt := range tests {
		got, err := selectMix(tt.names)
		if (err != nil) != tt.err || len(got) != tt.want {
			t.Errorf("selectMix(%q) = %d queries, err %v; want %d, error %v", tt.names, len(got), err, tt.want, tt.err)
		}
	}
}

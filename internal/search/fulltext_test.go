package search

import (
	"context"
	"strings"
	"testing"
)

func TestIndexerFullText(t *testing.T) {
	res := map[string]any{"resourceType": "Condition", "id": "c1",
		"text":     map[string]any{"status": "generated", "div": `<div xmlns="http://www.w3.org/1999/xhtml"><p>Chest <b>pain</b> &amp; Zoë</p></div>`},
		"code":     map[string]any{"text": "Angina"},
		"subject":  map[string]any{"reference": "Patient/p1"},
		"category": []any{map[string]any{"text": "problem-list"}}}
	entries, _, err := NewIndexer(NewRegistry(), Extractor{}).Index(context.Background(), res, "p1")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		if r, ok := e.Row.(TextRow); ok {
			got[e.Code] = r.Text
		}
	}
	if got["_text"] != "chest pain & zoe" {
		t.Errorf("_text row %q", got["_text"])
	}
	for _, want := range []string{"angina", "chest pain & zoe", "patient/p1", "problem-list", "generated"} {
		if !strings.Contains(got["_content"], want) {
			t.Errorf("_content row %q lacks %q", got["_content"], want)
		}
	}
	if strings.Contains(got["_content"], "condition") || strings.Contains(got["_content"], "<") {
		t.Errorf("_content row %q holds the type or tags", got["_content"])
	}
	// A Bundle is not a DomainResource: _content only.
	entries, _, _ = NewIndexer(NewRegistry(), Extractor{}).Index(context.Background(),
		map[string]any{"resourceType": "Bundle", "type": "collection", "text": map[string]any{"div": "<div>x</div>"}}, "")
	for _, e := range entries {
		if e.Code == "_text" {
			t.Errorf("a Bundle has a _text row %+v", e)
		}
	}
}

func TestMatchText(t *testing.T) {
	row := TextRow{Text: Normalize("Chest pain after exercise; 2型糖尿病")}
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"chest", true}, {"PAIN chest", true}, {"chest pa", true}, {"pa chest", false},
		{"hest", false}, {"chest ankle", false}, {"糖尿病", true}, {"糖尿", true}, {"尿糖", false}, {"", false},
	} {
		if got := MatchText(tc.v, row); got != tc.want {
			t.Errorf("MatchText(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
	if long := bound(strings.Repeat("é", MaxIndexedText), MaxIndexedText); len(long) > MaxIndexedText || !strings.HasSuffix(long, "é") {
		t.Errorf("bound cut a rune: %d bytes", len(long))
	}
}

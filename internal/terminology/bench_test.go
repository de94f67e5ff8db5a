package terminology

import (
	"context"
	"fmt"
	"testing"
)

const (
	bigSystem = "http://ehealth.example/CodeSystem/drugs"
	bigVS     = "http://ehealth.example/ValueSet/drugs"
)

// bigService holds a code system of n drug codes, 100 groups of n/100,
// with English and Chinese displays, and a value set of all of them.
func bigService(b *testing.B, n int) *Service {
	b.Helper()
	concepts := make([]any, 0, n)
	for g := 0; g < 100; g++ {
		var children []any
		for i := 0; i < n/100-1; i++ {
			children = append(children, map[string]any{
				"code": fmt.Sprintf("D%03d-%04d", g, i), "display": fmt.Sprintf("Drug %d of group %d tablet", i, g),
				"designation": []any{map[string]any{"language": "zh-HK", "value": fmt.Sprintf("第%d組藥物%d片", g, i)}},
			})
		}
		concepts = append(concepts, map[string]any{"code": fmt.Sprintf("G%03d", g), "display": fmt.Sprintf("Group %d", g), "concept": children})
	}
	cs := map[string]any{"resourceType": "CodeSystem", "url": bigSystem, "status": "active", "content": "complete", "concept": concepts}
	vs := map[string]any{"resourceType": "ValueSet", "url": bigVS, "status": "active",
		"compose": map[string]any{"include": []any{map[string]any{"system": bigSystem}}}}
	s := NewService(tables(b))
	if err := s.PutAll([]map[string]any{cs, vs}); err != nil {
		b.Fatal(err)
	}
	if vsx, _ := s.Tables().ValueSet(bigVS); vsx.Len() != n {
		b.Fatalf("value set has %d codes, want %d", vsx.Len(), n)
	}
	return s
}

// BenchmarkValidateCode10k is $validate-code (typed, with a display check)
// against a 10,000-code value set.
func BenchmarkValidateCode10k(b *testing.B) {
	s := bigService(b, 10000)
	req := ValidateRequest{ValueSet: bigVS, Codings: []Coding{{System: bigSystem, Code: "D057-0042", Display: "Drug 42 of group 57 tablet"}}}
	for b.Loop() {
		v, err := s.Tables().ValidateCoding(req)
		if err != nil || !v.Result {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkValidateCode10kParameters is the same through the Parameters form.
func BenchmarkValidateCode10kParameters(b *testing.B) {
	s := bigService(b, 10000)
	p := in("url", "Uri", bigVS, "system", "Uri", bigSystem, "code", "Code", "D057-0042")
	for b.Loop() {
		if _, err := s.ValidateCode(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckCode10k is the membership test validation makes on writes.
func BenchmarkCheckCode10k(b *testing.B) {
	s := bigService(b, 10000)
	for b.Loop() {
		if m, _ := s.CheckCode(bigVS, bigSystem, "D057-0042"); !m {
			b.Fatal("not a member")
		}
	}
}

// BenchmarkExpandFilter10k expands a 10,000-code value set with a text filter.
func BenchmarkExpandFilter10k(b *testing.B) {
	s := bigService(b, 10000)
	for _, filter := range []string{"group 57 tablet", "第57組"} {
		b.Run(filter, func(b *testing.B) {
			p := in("url", "Uri", bigVS, "filter", "String", filter, "count", "Integer", "20")
			for b.Loop() {
				vs, err := s.Expand(context.Background(), p)
				if err != nil || vs["expansion"].(map[string]any)["total"].(int) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkExpandCold measures computing a 10,000-code expansion after the
// code system changed (no cached expansion).
func BenchmarkExpandCold(b *testing.B) {
	s := bigService(b, 10000)
	for b.Loop() {
		tb := s.Tables()
		t := *tb
		t.cache = newCache()
		if vs := t.expansion(bigVS); vs.Len() != 10000 {
			b.Fatal(vs.Len())
		}
	}
}

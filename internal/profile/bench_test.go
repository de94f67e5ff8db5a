package profile

import "testing"

// BenchmarkCheck is the cost of checking one resource as a deposit does:
// a laboratory result (slices, references, expected systems) and a
// Chinese-medicine prescription (extensions with their own profiles, a
// contained Medication checked against its profile, bindings).
func BenchmarkCheck(b *testing.B) {
	s := testSet(b)
	for _, c := range []struct{ name, src string }{{"lab-observation", labObs}, {"cm-prescription", cmPresc}} {
		res := parse(b, c.src)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rep, err := s.Check(b.Context(), res)
				if err != nil || !rep.Valid() {
					b.Fatal(err, rep.Issues)
				}
			}
		})
	}
}

// BenchmarkLoad is the cost of compiling the guide at start.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(nil); err != nil {
			b.Fatal(err)
		}
	}
}

package notify

import (
	"slices"
	"testing"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// FuzzParseChannels: a $notice-channels body is read — every channel one
// of the known codes — or refused as the client's mistake (400), never a
// panic.
func FuzzParseChannels(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Parameters","parameter":[{"name":"channel","valueCode":"sms"},{"name":"channel","valueCode":"email"}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"channel","valueString":"sms"}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"other","valueCode":"app"}]}`,
		`{"resourceType":"Parameters","parameter":{"name":"channel"}}`,
		`{"resourceType":"Parameters"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		body, err := fhir.Parse(data)
		if err != nil {
			return
		}
		got, err := parseChannels(body)
		if err != nil {
			if outcome.KindOf(err) != outcome.Invalid {
				t.Fatalf("a bad body is refused as %v, not 400: %v", outcome.KindOf(err), err)
			}
			return
		}
		for _, c := range got {
			if !slices.Contains(channelCodes, c.code) {
				t.Fatalf("an unknown channel %q was read", c.code)
			}
		}
	})
}

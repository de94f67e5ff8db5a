package web

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValueText(t *testing.T) {
	tests := []struct{ name, obs, want string }{
		{"quantity", `{"valueQuantity":{"value":7.1,"unit":"mmol/L"}}`, "7.1 mmol/L"},
		{"string", `{"valueString":"positive"}`, "positive"},
		{"coded", `{"valueCodeableConcept":{"text":"Detected"}}`, "Detected"},
		{"blood pressure", `{"component":[{"valueQuantity":{"value":128,"unit":"mmHg"}},{"valueQuantity":{"value":82,"unit":"mmHg"}}]}`, "128/82 mmHg"},
		{"none", `{"status":"final"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Resource
			d := json.NewDecoder(strings.NewReader(tt.obs))
			d.UseNumber()
			if err := d.Decode(&r); err != nil {
				t.Fatal(err)
			}
			if got := ValueText(r); got != tt.want {
				t.Errorf("ValueText = %q, want %q", got, tt.want)
			}
		})
	}
}

package hl7v2_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/hl7v2"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// A real deposit on SQLite: the converted Bundle validates as R4 and
// stores; the same message again changes nothing new; a correction updates
// the same Observation; a bad message stores nothing.
func TestDepositIntoTheRecord(t *testing.T) {
	ctx := context.Background()
	p := platformtest.Open(t, platformtest.Backends[0].Open(t))
	lab := resource.Caller{Writer: "lab-system"}
	in := &hl7v2.Intake{Deposit: func(ctx context.Context, b map[string]any) error {
		_, err := p.Service.Bundle(ctx, lab, b, resource.ReturnMinimal)
		return err
	}, Now: time.Now}
	send := func(msg string) string {
		t.Helper()
		return string(in.Handle(ctx, []byte(msg)))
	}
	count := func(typ string, params url.Values) int64 {
		t.Helper()
		params.Set("_total", "accurate")
		r, err := p.Service.Search(ctx, lab, typ, params, resource.SearchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Total
	}
	counts := func() [3]int64 {
		return [3]int64{count("Patient", url.Values{}), count("DiagnosticReport", url.Values{}), count("Observation", url.Values{})}
	}

	if ack := send(lipids); !strings.Contains(ack, "MSA|AA|") {
		t.Fatalf("first deposit: %q", ack)
	}
	want := [3]int64{1, 2, 9}
	if got := counts(); got != want {
		t.Fatalf("after one message: Patient, DiagnosticReport, Observation = %v, want %v", got, want)
	}
	if ack := send(lipids); !strings.Contains(ack, "MSA|AA|") {
		t.Fatalf("re-sent: %q", ack)
	}
	if got := counts(); got != want {
		t.Errorf("re-sending duplicated: %v, want %v", got, want)
	}
	corrected := strings.Replace(lipids, "|5.20|mmol/L^millimole per litre^UCUM|3.0-5.2|H|||F", "|4.90|mmol/L^millimole per litre^UCUM|3.0-5.2|N|||C", 1)
	if ack := send(corrected); !strings.Contains(ack, "MSA|AA|") {
		t.Fatalf("correction: %q", ack)
	}
	r, err := p.Service.Search(ctx, lab, "Observation", url.Values{"identifier": {"urn:oid:2.16.344.1.3|LAB123-1"}}, resource.SearchOptions{})
	if err != nil || len(r.Matches) != 1 {
		t.Fatalf("the corrected Observation: %v, %d matches", err, len(r.Matches))
	}
	// Version 2: the identical re-send wrote no version (an update that
	// changes nothing stores nothing); the correction wrote the second.
	var obs map[string]any
	if err := json.Unmarshal(r.Matches[0].Body, &obs); err != nil {
		t.Fatal(err)
	}
	if obs["status"] != "corrected" || obs["valueQuantity"].(map[string]any)["value"] != 4.9 || r.Matches[0].VersionID != 2 {
		t.Errorf("after the correction: status %v, value %v, version %d", obs["status"], obs["valueQuantity"], r.Matches[0].VersionID)
	}

	other := strings.NewReplacer("LAB123", "LAB900", "LAB124", "LAB901", "||+06.10|", "||6,10|").Replace(lipids)
	if ack := send(other); !strings.Contains(ack, "MSA|AE|") || !strings.Contains(ack, "OBX-5 (segment 16)") {
		t.Errorf("a bad last OBX: ACK %q", ack)
	}
	if got := counts(); got != want {
		t.Errorf("a rejected message stored something: %v, want %v", got, want)
	}
}

// lipids is the test message of convert_test.go (package hl7v2), repeated
// here because this test is outside the package.
const lipids = "MSH|^~\\&|LIS|QMH LAB^2.16.344.1.1^ISO|EHEALTH|EHEALTH|20261129101500+0800||ORU^R01^ORU_R01|MSG00001|P|2.5.1\r" +
	"PID|1||A123456(3)^^^IMMD^HKID~HN0001^^^QMH&2.16.344.1.2&ISO^MR||CHAN^TAI MAN^^^MR||19800101|M\r" +
	"ORC|RE|PLC1|LAB123\r" +
	"OBR|1|PLC1^QMH|LAB123^QMH LAB^2.16.344.1.3^ISO|24331-1^Lipid panel^LN|||20261128083000|||||||||||||||20261129101000+0800|||F\r" +
	"NTE|1||Fasting sample\r" +
	"OBX|1|NM|2093-3^Cholesterol^LN||5.20|mmol/L^millimole per litre^UCUM|3.0-5.2|H|||F\r" +
	"NTE|1||Repeat in 3 months \\T\\ review diet\r" +
	"OBX|2|SN|2085-9^HDL Cholesterol^LN||>^1.0|mmol/L|>1.0|N|||F|||20261128084500+0800\r" +
	"OBX|3|ST|2089-1^LDL comment^LN||See note\\F\\ calculated||||||C\r" +
	"OBX|4|CWE|5778-6^Color of Urine^LN||371244009^Yellow^SCT||||||P\r" +
	"OBX|5|SN|5196-1^HBsAg titre^LN||^1^:^128||<1:16|A|||F\r" +
	"OBX|6|SN|5000-0^Range result^LN||^2^-^4|10*9/L||L~LL|||F\r" +
	"OBX|7|DT|8665-2^Last menstrual period^LN||20261101||||||F\r" +
	"OBX|8|TX|8251-1^Service comment^LN||line one~line two||||||X\r" +
	"OBR|2||LAB124^QMH LAB^2.16.344.1.3^ISO|2345-7^Glucose^LN|||20261128083000|||||||||||||||20261129101000|||P\r" +
	"OBX|1|NM|2345-7^Glucose^LN||+06.10|mmol/L||N|||P\r"

// Every shared ORU^R01 sample that converts also deposits: the Bundles
// are valid R4 the resource service accepts.
func TestDepositSharedSamples(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/testdata/hl7v2/*/*.hl7")
	if len(files) == 0 {
		t.Skip("no HL7 v2 samples at ../shared")
	}
	ctx := context.Background()
	p := platformtest.Open(t, platformtest.Backends[0].Open(t))
	lab := resource.Caller{Writer: "lab-system"}
	deposited := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := hl7v2.Parse(raw)
		if err != nil {
			continue
		}
		b, err := hl7v2.ConvertORU(m, hl7v2.Options{})
		if err != nil {
			continue // TestSharedSamples states which fail and why
		}
		if _, err := p.Service.Bundle(ctx, lab, b, resource.ReturnMinimal); err != nil {
			t.Errorf("%s: deposit: %v", filepath.Base(f), err)
		}
		deposited++
	}
	if deposited < 5 {
		t.Errorf("only %d samples deposited", deposited)
	}
}

package rest_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/consent"
)

// nistCase1 is the NIST ELR test case 1 (a blood lead result) from the
// shared test data, never copied into the repository.
const nistCase1 = "../../../shared/testdata/hl7v2/nist-elr-oru-r01/ORU_R01_2.5.1_SampleTestCase1.hl7"

// segmentField sets field n of the first segment called name (MSH counted
// as HL7 counts it: MSH-1 is the field separator).
func segmentField(name string, n int, v string) func(string) string {
	return func(msg string) string {
		lines := strings.Split(msg, "\r")
		for i, l := range lines {
			if !strings.HasPrefix(l, name+"|") {
				continue
			}
			f, at := strings.Split(l, "|"), n
			if name == "MSH" {
				at--
			}
			for len(f) <= at {
				f = append(f, "")
			}
			f[at] = v
			lines[i] = strings.Join(f, "|")
			break
		}
		return strings.Join(lines, "\r")
	}
}

// TestHL7v2MalformedShared posts the NIST message — given the HKID of a
// registered citizen, so that as sent it is deposited (AA) — and
// variants of it broken the ways senders break messages: each is answered
// AR or AE with ERR-2 naming the segment and field at fault (ERR-8 the
// segment's position when there is no segment ID), and stores nothing
// (each variant has its own order number, so anything stored would be
// new records).
func TestHL7v2MalformedShared(t *testing.T) {
	raw, err := os.ReadFile(nistCase1)
	if os.IsNotExist(err) {
		t.Skip("no shared HL7 v2 test data at " + nistCase1)
	}
	if err != nil {
		t.Fatal(err)
	}
	base := strings.Replace(string(raw), "^MR||Johnson", "^MR~A123456(3)^^^HKID||Johnson", 1)
	truncate := func(after string, keep int) func(string) string {
		return func(m string) string { return m[:strings.Index(m, after)+keep] }
	}
	variants := []struct {
		name   string
		change func(string) string
		ack    string
		erl    string // ERR-2, or for "" the start of ERR-8
	}{
		{"truncated OBX", func(m string) string {
			i := strings.Index(m, "OBX|")
			j := i + strings.Index(m[i:], "|1|50")
			return m[:j] + m[i+strings.Index(m[i:], "\r"):]
		}, "AE", "OBX^1^11^1"},
		{"truncated in PID", truncate("PID|", 10), "AE", "OBR"},
		{"truncated in MSH", truncate("MSH", 6), "AR", "MSH^1^2^1"},
		{"letter as field separator", func(m string) string { return "MSHX" + m[4:] }, "AR", "MSH^1^1^1"},
		{"repeated separator", func(m string) string { return "MSH|^^\\&" + m[8:] }, "AR", "MSH^1^2^1"},
		{"encoding characters swapped", func(m string) string { return strings.Replace(m, "MSH|^~\\&", "MSH|^~&\\", 1) }, "AE", "PID^1^3^1"},
		{"three encoding characters", func(m string) string { return strings.Replace(m, "MSH|^~\\&|", "MSH|^~\\|", 1) }, "AR", "MSH^1^2^1"},
		{"no message type", segmentField("MSH", 9, ""), "AR", "MSH^1^9^1^1"},
		{"no control id", segmentField("MSH", 10, ""), "AR", "MSH^1^10^1"},
		{"no version", segmentField("MSH", 12, ""), "AR", "MSH^1^12^1"},
		{"ADT^A01", segmentField("MSH", 9, "ADT^A01^ADT_A01"), "AR", "MSH^1^9^1^1"},
		{"ORU^R30", segmentField("MSH", 9, "ORU^R30"), "AR", "MSH^1^9^1^2"},
		{"bad birth date", segmentField("PID", 7, "20071326"), "AE", "PID^1^7^1"},
		{"bad HKID check digit", func(m string) string { return strings.Replace(m, "A123456(3)", "A123456(4)", 1) }, "AE", "PID^1^3^2^1"},
		{"odd-length OBR-7", segmentField("OBR", 7, "20080815103"), "AE", "OBR^1^7^1"},
		{"ISO date in OBX-14", segmentField("OBX", 14, "2008-08-15"), "AE", "OBX^1^14^1"},
		{"bad zone in OBR-22", segmentField("OBR", 22, "200808181800-07"), "AE", "OBR^1^22^1"},
		{"NM not a number", segmentField("OBX", 5, "fifty"), "AE", "OBX^1^5^1"},
		{"NM with a comma", segmentField("OBX", 5, "5,0"), "AE", "OBX^1^5^1"},
		{"unknown result status", segmentField("OBX", 11, "Q"), "AE", "OBX^1^11^1"},
		{"no specimen type", segmentField("SPM", 4, ""), "AE", "SPM^1^4^1"},
		{"unclosed escape", segmentField("OBX", 5, "5\\Z"), "AE", "OBX^1^5^1"},
		{"duplicated MSH", func(m string) string { return m + m }, "AR", "MSH^2"},
		{"binary garbage", func(string) string { return "\x00\x01\xfe\xff\x8b\x1f\x08binary\x00\r\n" }, "AR", "segment 1: message does not start with MSH"},
		{"garbage after the message", func(m string) string { return m + "\x00\xff\xfe\x01\r" }, "AR", "segment 8: segment ID"},
	}
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			s := fullServer(t, b.Open(t), consent.Policy{})
			s.do("POST", "/fhir/Patient/$register", `{"resourceType":"Parameters","parameter":[{"name":"patient","resource":{"resourceType":"Patient",
 "identifier":[{"system":"http://www.immd.gov.hk/hkid","value":"A123456(3)"}],"name":[{"family":"Johnson","given":["Philip"]}],"birthDate":"2007-05-26","gender":"male","telecom":[{"system":"phone","value":"91234567"}]}}]}`).must(t, http.StatusOK)
			lab := "Bearer " + s.issue(token.Claims{Subject: "nist-lab", ClientID: "nist-lab", Org: "Organization/lab",
				Scope: scope.MustParse("system/Patient.crus system/DiagnosticReport.crus system/Observation.crus system/Specimen.crus")})
			send := func(msg string) string {
				t.Helper()
				r := s.do("POST", "/hl7v2", msg, "Authorization", lab, "Content-Type", "application/hl7-v2")
				if r.status != http.StatusOK {
					t.Fatalf("HTTP %d: %s", r.status, r.raw)
				}
				return string(r.raw)
			}
			counts := func() string {
				t.Helper()
				var out []string
				for _, typ := range []string{"Patient", "DiagnosticReport", "Observation", "Specimen"} {
					r := s.do("GET", "/fhir/"+typ+"?_summary=count", nil).must(t, http.StatusOK)
					out = append(out, fmt.Sprintf("%s %v", typ, r.body["total"]))
				}
				return strings.Join(out, ", ")
			}
			before := counts()
			if ack := send(base); !strings.Contains(ack, "MSA|AA|NIST-100929110701660") {
				t.Fatalf("the NIST message as sent: %q", ack)
			}
			stored := counts()
			if stored == before || !strings.Contains(stored, "Observation 1") || !strings.Contains(stored, "Specimen 1") {
				t.Fatalf("the NIST message stored %s (before: %s)", stored, before)
			}
			for i, v := range variants {
				t.Run(v.name, func(t *testing.T) {
					msg := strings.NewReplacer("NIST-100929110701660", fmt.Sprintf("V%d", i), "9700123", fmt.Sprintf("97%05d", i)).Replace(v.change(base))
					ack := send(msg)
					msa, err2, err8 := ackFields(ack)
					if msa != v.ack {
						t.Errorf("MSA-1 %q, want %s: %q", msa, v.ack, ack)
					}
					if strings.Contains(v.erl, "^") || !strings.Contains(v.erl, " ") {
						if err2 != v.erl {
							t.Errorf("ERR-2 %q, want %q: %q", err2, v.erl, ack)
						}
					} else if !strings.HasPrefix(err8, v.erl) {
						t.Errorf("ERR-8 %q, want it to start %q", err8, v.erl)
					}
					if got := counts(); got != stored {
						t.Errorf("a refused message stored something: %s, want %s", got, stored)
					}
				})
			}
		})
	}
}

// ackFields reads an ACK's MSA-1, ERR-2 and ERR-8.
func ackFields(ack string) (msa, erl, text string) {
	for _, seg := range strings.Split(ack, "\r") {
		f := strings.Split(seg, "|")
		switch {
		case f[0] == "MSA" && len(f) > 1:
			msa = f[1]
		case f[0] == "ERR" && len(f) > 8:
			erl, text = f[2], f[8]
		}
	}
	return msa, erl, text
}

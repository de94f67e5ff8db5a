package hl7v2

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

var ackTime = time.Date(2026, 11, 29, 10, 20, 0, 0, hongKong)

func fixedIntake(dep Deposit) *Intake {
	return &Intake{Deposit: dep, Now: func() time.Time { return ackTime }, ControlID: func() string { return "ACK1" }}
}

func TestAckAccepted(t *testing.T) {
	var got map[string]any
	in := fixedIntake(func(_ context.Context, b map[string]any) error { got = b; return nil })
	ack := string(in.Handle(context.Background(), []byte(oruLipids)))
	want := "MSH|^~\\&|EHEALTH|EHEALTH|LIS|QMH LAB^2.16.344.1.1^ISO|20261129102000+0800||ACK^R01^ACK|ACK1|P|2.5.1\rMSA|AA|MSG00001\r"
	if ack != want {
		t.Errorf("ACK =\n%q\nwant\n%q", ack, want)
	}
	if got == nil || len(got["entry"].([]any)) != 12 {
		t.Errorf("deposited %v, want the 12-entry Bundle", got)
	}
}

func TestAckErrors(t *testing.T) {
	tests := []struct {
		name, msg string
		deposit   error
		want      []string // segments of the ACK after MSH
	}{
		{"bad numeric is AE with the position", header + "PID|||1^^^H^MR\rOBR|1||F1|X^Y^LN" + strings.Repeat("|", 21) + "F\rOBX|1|NM|A^A^LN||abc||||||F\r", nil,
			[]string{"MSA|AE|C1", `ERR||OBX^1^5^1|102^Data type error^HL70357|E||||OBX-5 (segment 4): OBX-5 (NM): "abc" is not a number`}},
		{"wrong type is AR", "MSH|^~\\&|A|B|||20260101||ADT^A01|X9|P|2.5\r", nil,
			[]string{"MSA|AR|X9", "ERR||MSH^1^9^1^1|200^Unsupported message type^HL70357|E||||MSH-9.1 (segment 1): message type \"ADT\" is not supported: only ORU\\S\\R01 (lab results)"}},
		{"no MSH is AR without a control id", "PID|1\r", nil,
			[]string{"MSA|AR|", "ERR|||100^Segment sequence error^HL70357|E||||segment 1: message does not start with MSH"}},
		{"unparseable message still echoes MSH-10", "MSH|^~\\&|A|B|||20260101||ORU^R01|ID&7|P|2.5\rpid\r", nil,
			[]string{"MSA|AR|ID\\T\\7", "ERR|||100^Segment sequence error^HL70357|E||||segment 2: segment ID \"pid\" is not three upper-case letters or digits"}},
		{"escapes in the user message", header + "PID|||1^^^H^MR\rOBR|1||F1|X^Y^LN" + strings.Repeat("|", 21) + "Q|x\r", nil,
			[]string{"MSA|AE|C1", `ERR||OBR^1^25^1|103^Table value not found^HL70357|E||||OBR-25 (segment 3): OBR-25 result status "Q" is not in HL7 table 0123`}},
		{"deposit refused", oruLipids, outcome.At(outcome.Unprocessable, "Bundle.entry[0].resource", "no joining consent"), []string{"MSA|AE|MSG00001",
			"ERR|||207^Application internal error^HL70357|E||||message: refused, nothing was stored: no joining consent (at Bundle.entry[0].resource)"}},
		{"deposit failed inside", oruLipids, errors.New("disk on fire"), []string{"MSA|AE|MSG00001",
			"ERR|||207^Application internal error^HL70357|E||||message: the results could not be stored (internal error); nothing was stored"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixedIntake(func(context.Context, map[string]any) error { return tt.deposit })
			ack := in.Handle(context.Background(), []byte(tt.msg))
			segs := strings.Split(strings.TrimSuffix(string(ack), "\r"), "\r")
			if got := segs[1:]; strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("ACK segments\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if _, err := Parse(ack); err != nil {
				t.Errorf("the ACK does not parse: %v", err)
			}
		})
	}
}

// A message that fails conversion never reaches the deposit.
func TestRejectedNeverDeposited(t *testing.T) {
	called := false
	in := fixedIntake(func(context.Context, map[string]any) error { called = true; return nil })
	bad := strings.Replace(oruLipids, "||+06.10|", "||6,10|", 1)
	if ack := in.Handle(context.Background(), []byte(bad)); !strings.Contains(string(ack), "MSA|AE|") {
		t.Fatalf("ACK %q, want AE", ack)
	}
	if called {
		t.Error("a message with an error in its last OBX was deposited")
	}
}

package notify_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/notify"
)

var delivery = notify.Delivery{Communication: "c1", Recipient: "Patient/p1", Address: mobile,
	Message: notify.Message{English: "Hello", Chinese: "你好"}}

// TestSMSAdapter: the gateway's answer decides delivered, retry later or
// refused for good; the body and the bearer token are what it expects.
func TestSMSAdapter(t *testing.T) {
	cases := []struct {
		status    int
		ok        bool
		permanent bool
	}{
		{0, true, false}, {503, false, false}, {500, false, false}, {429, false, false},
		{408, false, false}, {400, false, true}, {422, false, true},
	}
	for _, tc := range cases {
		g := newGateway(t)
		g.failWith(func(int) int { return tc.status })
		note, err := (&notify.SMS{URL: g.URL(), Token: "s3cret"}).Send(t.Context(), delivery)
		if (err == nil) != tc.ok || isPermanent(err) != tc.permanent {
			t.Errorf("gateway %d: note %q err %v, want ok %v permanent %v", tc.status, note, err, tc.ok, tc.permanent)
		}
		msgs, _ := g.received()
		if len(msgs) != 1 || msgs[0].To != mobile || msgs[0].Text != "Hello\n\n你好" || msgs[0].Reference != "Communication/c1" || msgs[0].Auth != "Bearer s3cret" {
			t.Errorf("gateway %d received %+v", tc.status, msgs)
		}
	}
	if _, err := (&notify.SMS{URL: "http://127.0.0.1:1/unreachable"}).Send(t.Context(), delivery); err == nil || isPermanent(err) {
		t.Errorf("unreachable gateway: %v, want an error to retry", err)
	}
}

// TestEmailAdapter: a message reaches the SMTP server with both languages
// and a UTF-8 subject; a 5xx refusal is permanent, a 4xx one retried, a
// malformed address refused before any connection.
func TestEmailAdapter(t *testing.T) {
	cases := []struct {
		name, address, rcptReply string
		ok, permanent            bool
	}{
		{"delivered", email, "", true, false},
		{"mailbox unknown", email, "550 no such user", false, true},
		{"mailbox busy", email, "451 try later", false, false},
		{"malformed address", "not an address\r\nBcc: x@y", "", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMailServer(t)
			m.rcptReply = tc.rcptReply
			d := delivery
			d.Address = tc.address
			_, err := (&notify.Email{Addr: m.addr, From: "eHealth+ <notices@ehealth.test>"}).Send(t.Context(), d)
			if (err == nil) != tc.ok || isPermanent(err) != tc.permanent {
				t.Fatalf("err %v, want ok %v permanent %v", err, tc.ok, tc.permanent)
			}
			got := m.received()
			if !tc.ok {
				if len(got) != 0 {
					t.Errorf("a refused message was accepted: %+v", got)
				}
				return
			}
			if len(got) != 1 || got[0].To != email || got[0].From != "<notices@ehealth.test>" {
				t.Fatalf("received %+v", got)
			}
			for _, want := range []string{"Subject: =?utf-8?q?eHealth+_notice_/_", "Hello", "=E4=BD=A0=E5=A5=BD", "charset=utf-8"} {
				if !strings.Contains(got[0].Data, want) {
					t.Errorf("message lacks %q:\n%s", want, got[0].Data)
				}
			}
		})
	}
}

func isPermanent(err error) bool {
	var p *notify.PermanentError
	return errors.As(err, &p)
}

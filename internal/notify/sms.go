package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// SMS sends text messages through an HTTP gateway: a POST of a JSON body
//
//	{"to": "+852 9123 4567", "text": "…", "reference": "Communication/ID"}
//
// to URL, with "Authorization: Bearer Token" when Token is set. A 2xx
// answer is delivery; 4xx (but 408 and 429) is a permanent refusal; any
// other answer or a network failure is tried again later.
type SMS struct {
	URL    string
	Token  string
	Client *http.Client // nil: a client with a 10-second timeout
}

// smsMessage is the gateway's request body.
type smsMessage struct {
	To        string `json:"to"`
	Text      string `json:"text"`
	Reference string `json:"reference"`
}

// Name is ChannelSMS.
func (s *SMS) Name() string { return ChannelSMS }

// Send posts d to the gateway.
func (s *SMS) Send(ctx context.Context, d Delivery) (string, error) {
	body, err := json.Marshal(smsMessage{To: d.Address, Text: d.Message.text(), Reference: "Communication/" + d.Communication})
	if err != nil {
		return "", fmt.Errorf("sms: encode Communication/%s: %w", d.Communication, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return "", Permanent(fmt.Errorf("sms: gateway request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return "", fmt.Errorf("sms: send Communication/%s: %w", d.Communication, err)
	}
	defer resp.Body.Close()
	detail, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode/100 == 2:
		return "sent by SMS to " + d.Recipient, nil
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		return "", Permanent(fmt.Errorf("sms: gateway refused Communication/%s: HTTP %d %s", d.Communication, resp.StatusCode, bytes.TrimSpace(detail)))
	}
	return "", fmt.Errorf("sms: gateway failed Communication/%s: HTTP %d %s", d.Communication, resp.StatusCode, bytes.TrimSpace(detail))
}

func (s *SMS) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return &http.Client{Timeout: 10 * time.Second}
}

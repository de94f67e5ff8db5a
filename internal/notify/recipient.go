package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// ChannelsExtension holds a citizen's choice of channels on their Patient
// (valueCode, repeating: sms, email, app). Without it the choice is the
// app only.
const ChannelsExtension = "https://ehealth.hk/fhir/StructureDefinition/notice-channels"

// Chosen returns the channels chosen on a Patient (the extension's
// codes), always with the app: the Communication in the citizen's inbox
// is delivered whatever else they chose. The app alone when none are.
func Chosen(patient map[string]any) []string {
	out := []string{ChannelApp}
	for _, x := range list(patient["extension"]) {
		m, _ := x.(map[string]any)
		if m["url"] != ChannelsExtension {
			continue
		}
		if code, _ := m["valueCode"].(string); slices.Contains(channelCodes, code) {
			out = append(out, code)
		}
	}
	return ordered(out)
}

// setChosen replaces the choice on a Patient by channels (none: the
// default, so the extension is removed).
func setChosen(patient map[string]any, channels []string) {
	var keep []any
	for _, x := range list(patient["extension"]) {
		if m, _ := x.(map[string]any); m["url"] != ChannelsExtension {
			keep = append(keep, x)
		}
	}
	for _, c := range ordered(channels) {
		keep = append(keep, map[string]any{"url": ChannelsExtension, "valueCode": c})
	}
	if len(keep) == 0 {
		delete(patient, "extension")
		return
	}
	patient["extension"] = keep
}

// ordered sorts channel codes as channelCodes lists them, without repeats.
func ordered(channels []string) []string {
	var out []string
	for _, c := range channelCodes {
		if slices.Contains(channels, c) {
			out = append(out, c)
		}
	}
	return out
}

// reachable lists the channels a RelatedPerson's telecom makes possible:
// the app, and sms and email where it holds a mobile number or an address.
func reachable(res map[string]any, now time.Time) []string {
	out := []string{ChannelApp}
	for _, c := range []string{ChannelSMS, ChannelEmail} {
		if address(res, c, now) != "" {
			out = append(out, c)
		}
	}
	return out
}

// address is where channel reaches the person res describes (Patient or
// RelatedPerson): the first current telecom of the matching kind — a
// mobile number (system sms, or phone with use mobile) for sms, an email
// address for email. "" when there is none, and always for the app.
func address(res map[string]any, channel string, now time.Time) string {
	for _, t := range list(res["telecom"]) {
		cp, _ := t.(map[string]any)
		value, _ := cp["value"].(string)
		if value == "" || ended(cp, now) {
			continue
		}
		system, _ := cp["system"].(string)
		use, _ := cp["use"].(string)
		switch {
		case channel == ChannelSMS && (system == "sms" || system == "phone" && use == "mobile"):
			return value
		case channel == ChannelEmail && system == "email":
			return value
		}
	}
	return ""
}

// ended reports whether a ContactPoint's period ended before now.
func ended(cp map[string]any, now time.Time) bool {
	period, _ := cp["period"].(map[string]any)
	end, _ := period["end"].(string)
	if end == "" {
		return false
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, end); err == nil {
			return t.Before(now)
		}
	}
	return false
}

// decode parses a stored resource, keeping numbers as written
// (json.Number), as the platform's codec does.
func decode(body []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var res map[string]any
	if err := d.Decode(&res); err != nil {
		return nil, fmt.Errorf("decode resource: %w", err)
	}
	return res, nil
}

func list(v any) []any { l, _ := v.([]any); return l }

package login

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// softAuthenticator is a platform authenticator in software: an ES256 key
// per credential, discoverable (it keeps the user handle), user presence
// and verification always asserted, a signature counter. It builds the
// very bytes a browser and authenticator would send (WebAuthn Level 3
// §6.1 authenticator data, §6.5 attestation "none", §5.8.1 client data).
type softAuthenticator struct {
	t          *testing.T
	key        *ecdsa.PrivateKey
	credID     []byte
	userHandle []byte
	rpID       string
	origin     string // the origin the "browser" puts in client data
	count      uint32
	noUV       bool // leave the UV flag out
}

func newSoftAuthenticator(t *testing.T, rpID, origin string) *softAuthenticator {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	return &softAuthenticator{t: t, key: key, credID: id, rpID: rpID, origin: origin}
}

// clone is a copy of the authenticator, key and counter included: what an
// attacker who extracted the key would hold.
func (a *softAuthenticator) clone() *softAuthenticator {
	c := *a
	return &c
}

var b64u = base64.RawURLEncoding

// options is the part of the begin step's answer the authenticator reads.
type options struct {
	Ceremony string `json:"ceremony"`
	Options  struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RP        struct {
				ID string `json:"id"`
			} `json:"rp"`
			RPID string `json:"rpId"`
			User struct {
				ID string `json:"id"`
			} `json:"user"`
			AuthenticatorSelection struct {
				ResidentKey      string `json:"residentKey"`
				UserVerification string `json:"userVerification"`
			} `json:"authenticatorSelection"`
			UserVerification string `json:"userVerification"`
		} `json:"publicKey"`
	} `json:"options"`
}

func parseOptions(t *testing.T, body string) options {
	t.Helper()
	var o options
	if err := json.Unmarshal([]byte(body), &o); err != nil || o.Ceremony == "" || o.Options.PublicKey.Challenge == "" {
		t.Fatalf("begin: %v %s", err, body)
	}
	return o
}

func (a *softAuthenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.origin, "crossOrigin": false})
	return b
}

func (a *softAuthenticator) authData(attested bool) []byte {
	rp := sha256.Sum256([]byte(a.rpID))
	flags := byte(0x01) // UP
	if !a.noUV {
		flags |= 0x04
	}
	if attested {
		flags |= 0x40
	}
	out := append(rp[:], flags)
	out = binary.BigEndian.AppendUint32(out, a.count)
	if attested {
		out = append(out, make([]byte, 16)...) // AAGUID: none
		out = binary.BigEndian.AppendUint16(out, uint16(len(a.credID)))
		out = append(out, a.credID...)
		x, y := a.key.X.FillBytes(make([]byte, 32)), a.key.Y.FillBytes(make([]byte, 32))
		cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
			PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
			Curve:         int64(webauthncose.P256), XCoord: x, YCoord: y})
		if err != nil {
			a.t.Fatal(err)
		}
		out = append(out, cose...)
	}
	return out
}

// create answers navigator.credentials.create with a new credential.
func (a *softAuthenticator) create(o options) map[string]any {
	a.t.Helper()
	pk := o.Options.PublicKey
	if pk.RP.ID != a.rpID || pk.AuthenticatorSelection.ResidentKey != "required" || pk.AuthenticatorSelection.UserVerification != "required" {
		a.t.Fatalf("creation options: rp %q residentKey %q userVerification %q", pk.RP.ID, pk.AuthenticatorSelection.ResidentKey, pk.AuthenticatorSelection.UserVerification)
	}
	handle, err := b64u.DecodeString(pk.User.ID)
	if err != nil {
		a.t.Fatal(err)
	}
	a.userHandle = handle
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": a.authData(true)})
	if err != nil {
		a.t.Fatal(err)
	}
	return map[string]any{"id": b64u.EncodeToString(a.credID), "rawId": b64u.EncodeToString(a.credID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64u.EncodeToString(a.clientData("webauthn.create", pk.Challenge)),
			"attestationObject": b64u.EncodeToString(att),
		}}
}

// get answers navigator.credentials.get with an assertion, the counter
// one up.
func (a *softAuthenticator) get(o options) map[string]any {
	a.t.Helper()
	pk := o.Options.PublicKey
	if pk.UserVerification != "required" {
		a.t.Fatalf("request options: userVerification %q", pk.UserVerification)
	}
	a.count++
	auth := a.authData(false)
	cd := a.clientData("webauthn.get", pk.Challenge)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		a.t.Fatal(err)
	}
	return map[string]any{"id": b64u.EncodeToString(a.credID), "rawId": b64u.EncodeToString(a.credID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64u.EncodeToString(cd),
			"authenticatorData": b64u.EncodeToString(auth),
			"signature":         b64u.EncodeToString(sig),
			"userHandle":        b64u.EncodeToString(a.userHandle),
		}}
}

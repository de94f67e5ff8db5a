package login

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// TOTP as RFC 6238 with the parameters every authenticator app supports:
// HMAC-SHA1, 30-second steps, six digits; a code of the step before or
// after is accepted too (clock drift).
const (
	totpPeriod = 30
	totpSkew   = 1
)

// nsTOTPUsed remembers the steps used per account while they could still
// be accepted, so a code works once even on two servers at the same
// moment (InsertKey).
const nsTOTPUsed = "login.totp.used"

var totpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// newTOTPSecret returns a new 160-bit secret (base32, RFC 4226 §4's
// recommended length) and its otpauth:// URI (the Key Uri Format every
// authenticator app reads), labelled "issuer:account".
func newTOTPSecret(issuer, account string) (secret, uri string, err error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("login: totp secret: %w", err)
	}
	secret = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	q := url.Values{"secret": {secret}, "issuer": {issuer}, "algorithm": {"SHA1"}, "digits": {"6"},
		"period": {strconv.Itoa(totpPeriod)}}
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: q.Encode()}
	return secret, u.String(), nil
}

// totpCode is the code of secret at step.
func totpCode(secret string, step int64) (string, error) {
	return hotp.GenerateCodeCustom(secret, uint64(step), totpOpts)
}

// checkTOTP returns the step of now, or one either side, whose code is
// code. Every candidate is computed and compared in constant time.
func checkTOTP(secret, code string, now time.Time) (int64, bool) {
	cur := now.Unix() / totpPeriod
	var found int64
	ok := false
	for s := cur - totpSkew; s <= cur+totpSkew; s++ {
		want, err := totpCode(secret, s)
		if err == nil && len(code) == len(want) && subtle.ConstantTimeCompare([]byte(code), []byte(want)) == 1 && !ok {
			found, ok = s, true
		}
	}
	return found, ok
}

// useStep records that username used step; false if it was used before.
func useStep(ctx context.Context, keys store.Keyed, username string, step int64, now time.Time) (bool, error) {
	k := store.Key{NS: nsTOTPUsed, Key: fmt.Sprintf("%s/%d", username, step)}
	until := now.Add((2*totpSkew + 2) * totpPeriod * time.Second)
	err := keys.InsertKey(ctx, k, nil, until)
	if outcome.Is(err, outcome.Conflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("login: record TOTP step: %w", err)
	}
	return true, nil
}

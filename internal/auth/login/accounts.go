package login

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// nsPro holds professionals' accounts by username (lower case).
const nsPro = "login.pro"

// PasswordParams are argon2id's parameters (RFC 9106).
type PasswordParams struct {
	Time      uint32 `json:"t"`
	MemoryKiB uint32 `json:"m"`
	Threads   uint8  `json:"p"`
}

// DefaultPasswordParams follow RFC 9106 §4's second recommended option
// (t=3, 64 MiB, p=4): ~0.1 s a check on a 2-core machine.
var DefaultPasswordParams = PasswordParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

const (
	saltLen = 16
	hashLen = 32
)

// proAccount is a professional's sign-in account. The TOTP secret is kept
// as is (the server needs it to compute codes); the password only as its
// argon2id hash with its own salt and parameters.
type proAccount struct {
	Username     string         `json:"username"`
	Practitioner string         `json:"practitioner"` // Practitioner/ID
	Salt         []byte         `json:"salt"`
	Hash         []byte         `json:"hash"`
	Params       PasswordParams `json:"params"`
	TOTPSecret   string         `json:"totpSecret,omitempty"` // base32
	LastStep     int64          `json:"lastStep,omitempty"`   // the last TOTP step accepted
}

// Accounts are the professionals' sign-in accounts, kept in the keyed
// store. `ehealth admin professional password|totp` sets them.
type Accounts struct {
	keys   store.Keyed
	params PasswordParams
	now    func() time.Time

	dummyOnce sync.Once
	dummy     proAccount
}

// NewAccounts returns the accounts in keys, hashing new passwords with
// params (DefaultPasswordParams if zero).
func NewAccounts(keys store.Keyed, params PasswordParams) *Accounts {
	if params == (PasswordParams{}) {
		params = DefaultPasswordParams
	}
	return &Accounts{keys: keys, params: params, now: time.Now}
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{2,63}$`)

var practitionerPattern = regexp.MustCompile(`^Practitioner/[A-Za-z0-9\-.]{1,64}$`)

// normalUsername lower-cases and trims a username.
func normalUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// SetPassword sets the password of username, creating the account for
// practitioner (Practitioner/ID) if it does not exist; an existing
// account keeps its practitioner and TOTP secret, and practitioner, if
// given, must be the same.
func (a *Accounts) SetPassword(ctx context.Context, username, practitioner, password string) error {
	username = normalUsername(username)
	if !usernamePattern.MatchString(username) {
		return fmt.Errorf("login: username %q: 3 to 64 of a-z 0-9 . _ @ -, starting with a letter or digit", username)
	}
	if len(password) < 12 || len(password) > 256 {
		return fmt.Errorf("login: a password has 12 to 256 bytes")
	}
	acc, found, err := a.get(ctx, username)
	if err != nil {
		return err
	}
	switch {
	case !found && !practitionerPattern.MatchString(practitioner):
		return fmt.Errorf("login: a new account needs its practitioner, Practitioner/ID (got %q)", practitioner)
	case found && practitioner != "" && practitioner != acc.Practitioner:
		return fmt.Errorf("login: %s is the account of %s, not %s", username, acc.Practitioner, practitioner)
	case !found:
		acc = proAccount{Username: username, Practitioner: practitioner}
	}
	acc.Salt = make([]byte, saltLen)
	_, _ = rand.Read(acc.Salt)
	acc.Params = a.params
	acc.Hash = hashPassword(password, acc.Salt, acc.Params)
	return a.put(ctx, acc)
}

// EnrolTOTP gives username a new TOTP secret (the old one stops working)
// and returns its otpauth:// URI for an authenticator app, issued by
// issuer (e.g. "eHealth+").
func (a *Accounts) EnrolTOTP(ctx context.Context, username, issuer string) (string, error) {
	username = normalUsername(username)
	acc, found, err := a.get(ctx, username)
	if err != nil {
		return "", err
	}
	if !found {
		return "", outcome.New(outcome.NotFound, "login: no account %q (set its password first)", username)
	}
	secret, uri, err := newTOTPSecret(issuer, username)
	if err != nil {
		return "", err
	}
	acc.TOTPSecret, acc.LastStep = secret, 0
	if err := a.put(ctx, acc); err != nil {
		return "", err
	}
	return uri, nil
}

func (a *Accounts) get(ctx context.Context, username string) (proAccount, bool, error) {
	b, err := a.keys.GetKey(ctx, nsPro, username)
	if outcome.Is(err, outcome.NotFound) {
		return proAccount{}, false, nil
	}
	if err != nil {
		return proAccount{}, false, fmt.Errorf("login: read account: %w", err)
	}
	var acc proAccount
	if err := json.Unmarshal(b, &acc); err != nil {
		return proAccount{}, false, fmt.Errorf("login: decode account: %w", err)
	}
	return acc, true, nil
}

func (a *Accounts) put(ctx context.Context, acc proAccount) error {
	b, err := json.Marshal(acc)
	if err != nil {
		return err
	}
	if err := a.keys.PutKey(ctx, store.Key{NS: nsPro, Key: acc.Username}, b, time.Time{}); err != nil {
		return fmt.Errorf("login: store account: %w", err)
	}
	return nil
}

// authenticate checks a password and a TOTP code for username. An unknown
// username costs what a known one does: its password is checked against a
// dummy hash made with the same parameters, and the code against a dummy
// secret, before the answer "no". A code's step is used once: a replay, or
// a step not after the last one accepted, fails.
func (a *Accounts) authenticate(ctx context.Context, username, password, code string) (proAccount, bool, error) {
	acc, found, err := a.get(ctx, normalUsername(username))
	if err != nil {
		return proAccount{}, false, err
	}
	if !found || acc.TOTPSecret == "" {
		acc, found = a.dummyAccount(), false
	}
	pwOK := subtle.ConstantTimeCompare(hashPassword(password, acc.Salt, acc.Params), acc.Hash) == 1
	step, codeOK := checkTOTP(acc.TOTPSecret, code, a.now())
	if !found || !pwOK || !codeOK || step <= acc.LastStep {
		return proAccount{}, false, nil
	}
	if ok, err := useStep(ctx, a.keys, acc.Username, step, a.now()); err != nil || !ok {
		return proAccount{}, false, err
	}
	acc.LastStep = step
	if err := a.put(ctx, acc); err != nil {
		return proAccount{}, false, err
	}
	return acc, true, nil
}

// dummyAccount is checked in place of a missing one, so both take as long.
func (a *Accounts) dummyAccount() proAccount {
	a.dummyOnce.Do(func() {
		salt := make([]byte, saltLen)
		_, _ = rand.Read(salt)
		secret, _, _ := newTOTPSecret("dummy", "dummy")
		a.dummy = proAccount{Salt: salt, Params: a.params, Hash: hashPassword(randomToken(), salt, a.params), TOTPSecret: secret}
	})
	return a.dummy
}

// hashPassword is argon2id of password with salt and p.
func hashPassword(password string, salt []byte, p PasswordParams) []byte {
	return argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, hashLen)
}

package login

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// nsOperator holds the platform operators' accounts by username.
const nsOperator = "login.operator"

// Operator is a platform operator's account as the console sees it.
type Operator struct {
	Username string    `json:"username"`
	Name     string    `json:"name"`
	Disabled bool      `json:"disabled,omitempty"`
	Created  time.Time `json:"created"`
	// TOTP is whether a TOTP secret is enrolled: an account without one
	// cannot sign in.
	TOTP bool `json:"-"`
}

// operatorAccount is the stored account: the password only as its
// argon2id hash, the TOTP secret as is (the server computes codes).
type operatorAccount struct {
	Operator
	Salt       []byte         `json:"salt"`
	Hash       []byte         `json:"hash"`
	Params     PasswordParams `json:"params"`
	TOTPSecret string         `json:"totpSecret,omitempty"`
	LastStep   int64          `json:"lastStep,omitempty"`
}

// Operators are the platform operators' sign-in accounts (username,
// password and TOTP, as professionals'), kept in the keyed store apart
// from professionals' and set by `ehealth admin operator`. They sign
// operators in to the operator console; nothing else reads them. Failed
// sign-ins lock an account as the login's do.
type Operators struct {
	keys   store.Keyed
	params PasswordParams
	limits *limits
	now    func() time.Time

	dummyOnce sync.Once
	dummy     operatorAccount
}

// NewOperators returns the operators' accounts in keys, hashing new
// passwords with params (DefaultPasswordParams if zero) and locking an
// account for DefaultLockout after DefaultMaxFailures failures within
// DefaultFailureWindow.
func NewOperators(keys store.Keyed, params PasswordParams) *Operators {
	if params == (PasswordParams{}) {
		params = DefaultPasswordParams
	}
	o := &Operators{keys: keys, params: params, now: time.Now}
	o.limits = &limits{keys: keys, max: DefaultMaxFailures, window: DefaultFailureWindow, lock: DefaultLockout,
		now: func() time.Time { return o.now() }}
	return o
}

// SetClock replaces the clock (tests).
func (o *Operators) SetClock(now func() time.Time) { o.now = now }

// Add creates an operator's account with a name people see and a
// password; a taken username is a conflict. The account signs in once a
// TOTP secret is enrolled (EnrolTOTP).
func (o *Operators) Add(ctx context.Context, username, name, password string) error {
	username = normalUsername(username)
	if !usernamePattern.MatchString(username) {
		return outcome.New(outcome.Invalid, "login: username %q: 3 to 64 of a-z 0-9 . _ @ -, starting with a letter or digit", username)
	}
	if name = strings.TrimSpace(name); name == "" || len(name) > 200 {
		return outcome.New(outcome.Invalid, "login: an operator needs a name of 1 to 200 bytes")
	}
	acc := operatorAccount{Operator: Operator{Username: username, Name: name, Created: o.now().UTC()}}
	if err := o.setPassword(&acc, password); err != nil {
		return err
	}
	b, err := json.Marshal(acc)
	if err != nil {
		return err
	}
	err = o.keys.InsertKey(ctx, store.Key{NS: nsOperator, Key: username}, b, time.Time{})
	if outcome.Is(err, outcome.Conflict) {
		return outcome.New(outcome.Conflict, "login: operator %s exists", username)
	}
	if err != nil {
		return fmt.Errorf("login: store operator: %w", err)
	}
	return nil
}

// SetPassword replaces an operator's password.
func (o *Operators) SetPassword(ctx context.Context, username, password string) error {
	return o.update(ctx, username, func(acc *operatorAccount) error { return o.setPassword(acc, password) })
}

// EnrolTOTP gives an operator a new TOTP secret (the old one stops
// working) and returns its otpauth:// URI, issued by issuer.
func (o *Operators) EnrolTOTP(ctx context.Context, username, issuer string) (string, error) {
	var uri string
	err := o.update(ctx, username, func(acc *operatorAccount) error {
		secret, u, err := newTOTPSecret(issuer, acc.Username)
		acc.TOTPSecret, acc.LastStep, uri = secret, 0, u
		return err
	})
	return uri, err
}

// SetDisabled disables an operator's account (it signs in no more, and
// the console ends its sessions on their next request) or enables it.
func (o *Operators) SetDisabled(ctx context.Context, username string, disabled bool) error {
	return o.update(ctx, username, func(acc *operatorAccount) error { acc.Disabled = disabled; return nil })
}

// Get returns an operator's account; NotFound if there is none.
func (o *Operators) Get(ctx context.Context, username string) (Operator, error) {
	acc, found, err := o.get(ctx, normalUsername(username))
	if err != nil {
		return Operator{}, err
	}
	if !found {
		return Operator{}, outcome.New(outcome.NotFound, "login: no operator %q", username)
	}
	return acc.Operator, nil
}

// Authenticate checks an operator's password and TOTP code. A wrong one,
// an unknown or disabled account or one without TOTP all answer
// Unauthorized alike, after the same work (a dummy account stands in); a
// code's step is accepted once. The MaxFailures-th failure locks the
// account (Forbidden while locked, whatever is typed).
func (o *Operators) Authenticate(ctx context.Context, username, password, code string) (Operator, error) {
	username = normalUsername(username)
	acct := account("operator", username)
	if wait, err := o.limits.locked(ctx, acct); err != nil {
		return Operator{}, err
	} else if wait > 0 {
		return Operator{}, outcome.New(outcome.Forbidden, "login: the account is locked for %s", wait.Round(time.Second))
	}
	acc, found, err := o.get(ctx, username)
	if err != nil {
		return Operator{}, err
	}
	if !found || acc.TOTPSecret == "" || acc.Disabled {
		acc, found = o.dummyAccount(), false
	}
	pwOK := subtle.ConstantTimeCompare(hashPassword(password, acc.Salt, acc.Params), acc.Hash) == 1
	step, codeOK := checkTOTP(acc.TOTPSecret, strings.TrimSpace(code), o.now())
	ok := found && pwOK && codeOK && step > acc.LastStep
	if ok {
		if ok, err = useStep(ctx, o.keys, "operator:"+acc.Username, step, o.now()); err != nil {
			return Operator{}, err
		}
	}
	if !ok {
		if wait, err := o.limits.failed(ctx, acct); err != nil {
			return Operator{}, err
		} else if wait > 0 {
			return Operator{}, outcome.New(outcome.Forbidden, "login: the account is locked for %s", wait.Round(time.Second))
		}
		return Operator{}, outcome.New(outcome.Unauthorized, "login: wrong username, password or code")
	}
	if err := o.limits.succeeded(ctx, acct); err != nil {
		return Operator{}, err
	}
	err = o.update(ctx, username, func(a *operatorAccount) error { a.LastStep = max(a.LastStep, step); return nil })
	acc.TOTP = true
	return acc.Operator, err
}

func (o *Operators) setPassword(acc *operatorAccount, password string) error {
	if len(password) < 12 || len(password) > 256 {
		return outcome.New(outcome.Invalid, "login: a password has 12 to 256 bytes")
	}
	acc.Salt = make([]byte, saltLen)
	_, _ = rand.Read(acc.Salt)
	acc.Params = o.params
	acc.Hash = hashPassword(password, acc.Salt, acc.Params)
	return nil
}

// update reads an account, changes it with fn and writes it back.
func (o *Operators) update(ctx context.Context, username string, fn func(*operatorAccount) error) error {
	username = normalUsername(username)
	acc, found, err := o.get(ctx, username)
	if err != nil {
		return err
	}
	if !found {
		return outcome.New(outcome.NotFound, "login: no operator %q (add it with ehealth admin operator add)", username)
	}
	if err := fn(&acc); err != nil {
		return err
	}
	b, err := json.Marshal(acc)
	if err != nil {
		return err
	}
	if err := o.keys.PutKey(ctx, store.Key{NS: nsOperator, Key: username}, b, time.Time{}); err != nil {
		return fmt.Errorf("login: store operator: %w", err)
	}
	return nil
}

func (o *Operators) get(ctx context.Context, username string) (operatorAccount, bool, error) {
	b, err := o.keys.GetKey(ctx, nsOperator, username)
	if outcome.Is(err, outcome.NotFound) {
		return operatorAccount{}, false, nil
	}
	if err != nil {
		return operatorAccount{}, false, fmt.Errorf("login: read operator: %w", err)
	}
	var acc operatorAccount
	if err := json.Unmarshal(b, &acc); err != nil {
		return operatorAccount{}, false, fmt.Errorf("login: decode operator: %w", err)
	}
	acc.TOTP = acc.TOTPSecret != ""
	return acc, true, nil
}

// dummyAccount is checked in place of a missing one, so both take as long.
func (o *Operators) dummyAccount() operatorAccount {
	o.dummyOnce.Do(func() {
		salt := make([]byte, saltLen)
		_, _ = rand.Read(salt)
		secret, _, _ := newTOTPSecret("dummy", "dummy")
		o.dummy = operatorAccount{Salt: salt, Params: o.params, Hash: hashPassword(randomToken(), salt, o.params), TOTPSecret: secret}
	})
	return o.dummy
}

// TOTPCode is the current code of an otpauth:// URI's secret: what an
// authenticator app shows (tests and demos sign operators in with it).
func TOTPCode(uri string, now time.Time) (string, error) {
	_, q, _ := strings.Cut(uri, "?")
	for part := range strings.SplitSeq(q, "&") {
		if s, ok := strings.CutPrefix(part, "secret="); ok {
			return totpCode(s, now.Unix()/totpPeriod)
		}
	}
	return "", fmt.Errorf("login: no secret in the TOTP URI")
}

package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// nsClient is the keyed-store namespace of registered clients.
const nsClient = "oauth.client"

// Registry keeps the registered OAuth clients in the keyed store, so every
// server on one database sees a registration or a disabling at once.
type Registry struct {
	keys store.Keyed
	now  func() time.Time
}

// NewRegistry returns the registry kept in keys.
func NewRegistry(keys store.Keyed) *Registry {
	return &Registry{keys: keys, now: time.Now}
}

// Register adds a client. It checks the client (see Client's fields),
// sets Created, and fails with outcome.Conflict if the id is taken and
// outcome.Invalid if the client is not acceptable.
func (g *Registry) Register(ctx context.Context, c Client) (Client, error) {
	c.Created = g.now().UTC().Truncate(time.Second)
	c.Disabled = false
	if err := c.check(); err != nil {
		return Client{}, outcome.New(outcome.Invalid, "oauth: register: %v", err)
	}
	body, err := json.Marshal(&c)
	if err != nil {
		return Client{}, err
	}
	err = g.keys.InsertKey(ctx, store.Key{NS: nsClient, Key: c.ID}, body, time.Time{})
	if outcome.Is(err, outcome.Conflict) {
		return Client{}, outcome.New(outcome.Conflict, "oauth: register: client %s is already registered", c.ID)
	}
	if err != nil {
		return Client{}, fmt.Errorf("oauth: register %s: %w", c.ID, err)
	}
	return c, nil
}

// Get returns the client registered as id, disabled or not; an unknown id
// is outcome.NotFound.
func (g *Registry) Get(ctx context.Context, id string) (*Client, error) {
	if !clientIDPattern.MatchString(id) {
		return nil, outcome.New(outcome.NotFound, "oauth: no client %q", id)
	}
	body, err := g.keys.GetKey(ctx, nsClient, id)
	if err != nil {
		if outcome.Is(err, outcome.NotFound) {
			return nil, outcome.New(outcome.NotFound, "oauth: no client %q", id)
		}
		return nil, fmt.Errorf("oauth: read client %s: %w", id, err)
	}
	return decodeClient(body)
}

func decodeClient(body []byte) (*Client, error) {
	c := new(Client)
	if err := json.Unmarshal(body, c); err != nil {
		return nil, fmt.Errorf("oauth: stored client: %w", err)
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("oauth: stored client: %w", err)
	}
	return c, nil
}

// List returns every registered client in id order.
func (g *Registry) List(ctx context.Context) ([]*Client, error) {
	kvs, err := g.keys.ListKeys(ctx, nsClient, "", 0)
	if err != nil {
		return nil, fmt.Errorf("oauth: list clients: %w", err)
	}
	out := make([]*Client, 0, len(kvs))
	for _, kv := range kvs {
		c, err := decodeClient(kv.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Disable stops a client: it can no longer authenticate, use an
// authorization code or a refresh token, or be granted anything. Access
// tokens it already holds stay valid until they expire (minutes), unless the
// FHIR API asks Server.Active. Disabling is not undone: register a new
// client id instead.
func (g *Registry) Disable(ctx context.Context, id string) error {
	c, err := g.Get(ctx, id)
	if err != nil {
		return err
	}
	c.Disabled = true
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return g.keys.PutKey(ctx, store.Key{NS: nsClient, Key: c.ID}, body, time.Time{})
}

package sqlite

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache prepares each fixed query once per pool; database/sql prepares
// it again on each connection as that connection first runs it. Parsing
// the SQL otherwise costs about as much as running these small queries.
type stmtCache struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

// get returns the prepared statement for query, preparing it on first use
// (lazily, because the tables exist only after Migrate).
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// prepareAll prepares queries not yet prepared. The writer's statements are
// prepared this way before its transaction begins: preparing on the pool
// while the pool's one connection is in a transaction would wait forever.
func (c *stmtCache) prepareAll(ctx context.Context, queries []string) error {
	for _, q := range queries {
		if _, err := c.get(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// lookup returns the statement for query if it is prepared.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stmts[query]
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.stmts {
		errs = append(errs, st.Close())
	}
	clear(c.stmts)
	return errors.Join(errs...)
}

// searchStmtCapacity bounds the search statements kept prepared: searches
// are built per query shape, and the shapes in use at any time are few,
// but their number over a server's life is not bounded.
const searchStmtCapacity = 256

// lruStmts keeps the most recently used search statements prepared on the
// reader pool. A search's SQL text depends only on its shape (values are
// parameters), and parsing it costs as much as running it on a small
// patient-scoped page. Evicted statements are closed; database/sql waits
// for their open rows before releasing them.
type lruStmts struct {
	db    *sql.DB
	mu    sync.Mutex
	order *list.List // of *lruEntry, most recent first
	byKey map[string]*list.Element
}

type lruEntry struct {
	query string
	stmt  *sql.Stmt
}

func newLRUStmts(db *sql.DB) *lruStmts {
	return &lruStmts{db: db, order: list.New(), byKey: map[string]*list.Element{}}
}

// get returns the statement for query, preparing it when it is not kept.
func (c *lruStmts) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	if el, ok := c.byKey[query]; ok {
		c.order.MoveToFront(el)
		st := el.Value.(*lruEntry).stmt
		c.mu.Unlock()
		return st, nil
	}
	c.mu.Unlock()
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[query]; ok { // prepared meanwhile by another caller
		st.Close()
		c.order.MoveToFront(el)
		return el.Value.(*lruEntry).stmt, nil
	}
	c.byKey[query] = c.order.PushFront(&lruEntry{query: query, stmt: st})
	for c.order.Len() > searchStmtCapacity {
		old := c.order.Remove(c.order.Back()).(*lruEntry)
		delete(c.byKey, old.query)
		old.stmt.Close()
	}
	return st, nil
}

func (c *lruStmts) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for el := c.order.Front(); el != nil; el = el.Next() {
		errs = append(errs, el.Value.(*lruEntry).stmt.Close())
	}
	c.order.Init()
	clear(c.byKey)
	return errors.Join(errs...)
}

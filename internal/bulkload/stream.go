package bulkload

import (
	"context"
	"fmt"
)

// Stream loads resources handed to it one at a time — by a generator
// rather than from a file — chunked into transactions as a file's are:
// each written at its id (or one fixed by name and place, resume.go), so a
// stream loaded again writes nothing twice. It is used by one goroutine.
type Stream struct {
	l     *Loader
	ctx   context.Context
	name  string
	n     int
	chunk []item
}

// Stream returns a stream of resources reported under name (as a file's
// path would be).
func (l *Loader) Stream(ctx context.Context, name string) *Stream {
	return &Stream{l: l, ctx: ctx, name: name, chunk: make([]item, 0, l.chunk)}
}

// Write adds res (a FHIR resource: Stream keeps it until its chunk is
// written); every Options.Chunk resources it writes a transaction. It
// fails only when the stream's context ends: a resource refused is a
// rejection in the loader's Summary, as in a file.
func (s *Stream) Write(res map[string]any) error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	s.n++
	s.chunk = append(s.chunk, item{where: fmt.Sprintf("resource %d", s.n), res: res})
	if len(s.chunk) == s.l.chunk {
		s.l.writeChunk(s.ctx, s.name, s.chunk)
		s.chunk = make([]item, 0, s.l.chunk)
	}
	return nil
}

// Close writes what is left and returns the loader's summary so far.
func (s *Stream) Close() (Summary, error) {
	if s.ctx.Err() == nil {
		s.l.writeChunk(s.ctx, s.name, s.chunk)
	}
	s.chunk = nil
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	return Summary{Resources: s.l.resources.Load(), Rejected: s.l.rejected}, s.ctx.Err()
}

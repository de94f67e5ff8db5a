package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"

	"github.com/ehealthplus/ehealth/internal/store"
)

// Kind is a kind of problem Verify finds.
type Kind string

// The problems Verify reports.
const (
	// Altered: an entry no longer matches its own hash (its time, patients
	// or body changed), or its hash was recomputed so the next entry no
	// longer follows it.
	Altered Kind = "altered"
	// Removed: seqs are missing from the journal (a gap).
	Removed Kind = "removed"
	// Reordered: an entry sits at another seq than the one it was written at.
	Reordered Kind = "reordered"
	// Truncated: the journal ends before a seq a checkpoint signed.
	Truncated Kind = "truncated"
	// Rewritten: the journal is consistent but differs from what a
	// checkpoint signed — rewritten without the key.
	Rewritten Kind = "rewritten"
	// BadSignature: a checkpoint's signature does not verify with the key.
	BadSignature Kind = "bad-signature"
	// CheckpointMissing: an exported checkpoint is not in the database.
	CheckpointMissing Kind = "checkpoint-missing"
	// CheckpointDiffers: the database holds another head at an exported
	// checkpoint's seq.
	CheckpointDiffers Kind = "checkpoint-differs"
)

// Problem is one thing wrong with the journal, at Seq (through To for a
// range of entries; To = Seq for one).
type Problem struct {
	Seq, To int64
	Kind    Kind
	Detail  string
}

func (p Problem) String() string {
	where := fmt.Sprintf("seq %d", p.Seq)
	if p.To > p.Seq {
		where = fmt.Sprintf("seq %d-%d", p.Seq, p.To)
	}
	return fmt.Sprintf("%s: %s: %s", where, p.Kind, p.Detail)
}

// Report is what Verify found.
type Report struct {
	Entries     int64 // entries read
	Last        int64 // the highest seq in the journal
	Checkpoints int   // checkpoints in the database
	Exported    int   // exported checkpoints given
	// Covered is the highest seq a valid checkpoint vouches for; the
	// entries after it rest on the chain alone until the next checkpoint.
	Covered  int64
	Problems []Problem
}

// OK reports whether Verify found no problem.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// reorderWindow is how far from its place Verify looks for the seq an
// entry that fails its hash was written at; farther moves are reported
// as alterations (still caught, less precisely named).
const reorderWindow = 64

// maxSearches bounds the reorder searches, so a journal altered
// throughout is verified in time linear in its length.
const maxSearches = 1000

// Verify walks the journal from seq 1 and checks it against the public
// key and the checkpoints a third party kept (exported; may be nil). It
// checks every entry's hash and link, every checkpoint's signature, each
// valid checkpoint against the journal's hash at its seq, and the
// exported checkpoints against the database's. The error is for failing
// to read; what is wrong with the journal is in the Report.
func Verify(ctx context.Context, log store.AuditLog, key ed25519.PublicKey, exported []store.AuditCheckpoint) (Report, error) {
	stored, err := log.AuditCheckpoints(ctx, 0, 0)
	if err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	v := &verifier{report: Report{Checkpoints: len(stored), Exported: len(exported)},
		prevHash: store.AuditGenesis, checks: map[int64][]store.AuditCheckpoint{}}
	v.addCheckpoints(key, stored, "database")
	v.addCheckpoints(key, exported, "exported")
	v.compareExported(key, stored, exported)
	if err := v.walk(ctx, log); err != nil {
		return Report{}, err
	}
	v.checkTail()
	return v.report, nil
}

type verifier struct {
	report   Report
	prevSeq  int64
	prevHash []byte
	prevBad  bool // the previous entry failed its own hash: its link proves nothing
	searches int
	// checks are the valid checkpoints by seq, maxSeq the highest;
	// matched is the seq of the last one the journal matched before it
	// first differed from one (rewritten).
	checks    map[int64][]store.AuditCheckpoint
	maxSeq    int64
	matched   int64
	rewritten bool
}

func (v *verifier) problem(seq, to int64, kind Kind, format string, args ...any) {
	v.report.Problems = append(v.report.Problems, Problem{Seq: seq, To: max(to, seq), Kind: kind, Detail: fmt.Sprintf(format, args...)})
}

// addCheckpoints keeps the checkpoints whose signature verifies and
// reports the others.
func (v *verifier) addCheckpoints(key ed25519.PublicKey, list []store.AuditCheckpoint, from string) {
	for _, c := range list {
		if !SignatureValid(key, c) {
			v.problem(c.Seq, c.Seq, BadSignature, "the %s checkpoint of %s does not verify with key %s (it names key %s): changed since it was signed, or signed by another key",
				from, c.Time.Format(instant), KeyID(key), c.KeyID)
			continue
		}
		v.checks[c.Seq] = append(v.checks[c.Seq], c)
		v.maxSeq = max(v.maxSeq, c.Seq)
	}
}

// compareExported reports exported checkpoints the database lost or holds
// differently (a rewrite that replaced the stored checkpoints).
func (v *verifier) compareExported(key ed25519.PublicKey, stored, exported []store.AuditCheckpoint) {
	bySeq := map[int64][]store.AuditCheckpoint{}
	for _, c := range stored {
		bySeq[c.Seq] = append(bySeq[c.Seq], c)
	}
	for _, x := range exported {
		if !SignatureValid(key, x) {
			continue
		}
		in := bySeq[x.Seq]
		if len(in) == 0 {
			v.problem(x.Seq, x.Seq, CheckpointMissing, "the checkpoint exported at %s is not in the database", x.Time.Format(instant))
			continue
		}
		for _, c := range in {
			if !bytes.Equal(c.Hash, x.Hash) {
				v.problem(x.Seq, x.Seq, CheckpointDiffers, "the database checkpoint signs head %x, the exported one %x", short(c.Hash), short(x.Hash))
			}
		}
	}
}

// walk reads the journal in pages and checks each entry.
func (v *verifier) walk(ctx context.Context, log store.AuditLog) error {
	for from := int64(1); ; {
		page, err := log.ReadAudit(ctx, store.AuditQuery{From: from, Limit: store.DefaultAuditPage})
		if err != nil {
			return fmt.Errorf("audit: verify from seq %d: %w", from, err)
		}
		for _, e := range page {
			v.entry(e)
		}
		if len(page) < store.DefaultAuditPage {
			return nil
		}
		from = page[len(page)-1].Seq + 1
	}
}

func (v *verifier) entry(e store.AuditEntry) {
	v.report.Entries++
	gap := e.Seq != v.prevSeq+1
	if gap {
		v.problem(v.prevSeq+1, e.Seq-1, Removed, "entries missing: the journal jumps from seq %d to %d", v.prevSeq, e.Seq)
	}
	intact := bytes.Equal(store.AuditHash(e.PrevHash, e), e.Hash)
	switch {
	case !intact:
		if t := v.writtenAt(e); t != 0 {
			v.problem(e.Seq, e.Seq, Reordered, "holds the entry written as seq %d", t)
		} else {
			v.problem(e.Seq, e.Seq, Altered, "the entry does not match its hash %x", short(e.Hash))
		}
	case !gap && !v.prevBad && !bytes.Equal(e.PrevHash, v.prevHash):
		// Intact, but not linked to the entry before it: that entry was
		// replaced with its hash recomputed.
		v.problem(e.Seq-1, e.Seq-1, Altered, "its hash %x is not the %x that seq %d recorded", short(v.prevHash), short(e.PrevHash), e.Seq)
	}
	if intact {
		v.checkpointsAt(e)
	}
	v.prevSeq, v.prevHash, v.prevBad = e.Seq, e.Hash, !intact
	v.report.Last = e.Seq
}

// writtenAt is the seq near e's place that e's hash was computed for, or
// 0 if there is none.
func (v *verifier) writtenAt(e store.AuditEntry) int64 {
	if v.searches >= maxSearches {
		return 0
	}
	v.searches++
	for d := int64(1); d <= reorderWindow; d++ {
		for _, t := range []int64{e.Seq - d, e.Seq + d} {
			moved := e
			moved.Seq = t
			if t > 0 && bytes.Equal(store.AuditHash(e.PrevHash, moved), e.Hash) {
				return t
			}
		}
	}
	return 0
}

// checkpointsAt compares the valid checkpoints at e's seq with e's hash.
// The first that differs bounds a rewrite: it started after the last
// checkpoint the journal still matched.
func (v *verifier) checkpointsAt(e store.AuditEntry) {
	from := v.matched + 1 // a rewrite here started after the last match before
	var seen [][]byte
	matched := false
	for _, c := range v.checks[e.Seq] {
		if bytes.Equal(c.Hash, e.Hash) {
			v.report.Covered = max(v.report.Covered, e.Seq)
			matched = true
			continue
		}
		if slices.ContainsFunc(seen, func(h []byte) bool { return bytes.Equal(h, c.Hash) }) {
			continue // the same head from the database and the export
		}
		seen = append(seen, c.Hash)
		if v.rewritten {
			from = e.Seq
		}
		v.problem(from, e.Seq, Rewritten, "the journal's hash at seq %d is %x, but the checkpoint of %s signed %x",
			e.Seq, short(e.Hash), c.Time.Format(instant), short(c.Hash))
		v.rewritten = true
	}
	if matched && !v.rewritten {
		v.matched = e.Seq
	}
}

// checkTail reports a journal that ends before the last checkpoint.
func (v *verifier) checkTail() {
	if v.maxSeq > v.report.Last {
		v.problem(v.report.Last+1, v.maxSeq, Truncated, "the journal ends at seq %d, but a checkpoint signed seq %d", v.report.Last, v.maxSeq)
	}
}

// short is the first 8 bytes of a hash, enough to tell two apart in a report.
func short(h []byte) []byte { return h[:min(len(h), 8)] }

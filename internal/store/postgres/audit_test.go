package postgres

import (
	"testing"

	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/internal/groupcommit"
	"github.com/ehealthplus/ehealth/internal/store/storetest"
)

// BenchmarkAudit measures audit appends/s with group commit and, under
// Unbatched, with every append committed on its own.
func BenchmarkAudit(b *testing.B) {
	storetest.BenchmarkAudit(b, func(tb testing.TB) store.Store { return open(tb) })
	b.Run("Unbatched", func(b *testing.B) {
		storetest.BenchmarkAudit(b, func(tb testing.TB) store.Store {
			s := open(tb)
			s.audit.Close()
			s.audit = groupcommit.Start(s.commitAudit, 1)
			return s
		})
	})
}

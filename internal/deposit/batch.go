package deposit

import (
	"context"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// batch writes each entry on its own — a record with the Provenance of
// its change in one transaction — after the entries it refers to, whose
// new ids replace their fullUrls in it. Entries that refer to each other
// in a cycle (a DocumentReference and its Binary) are written together.
// A refused entry fails the entries that refer to it.
func (d *deposit) batch(ctx context.Context) (map[string]any, error) {
	res := result{responses: map[int]map[string]any{}, provenance: map[int]map[string]any{}}
	written := map[int]string{} // entry index → "Type/id" stored
	for _, group := range d.components() {
		d.failDependents(group, written)
		var send []*item
		for _, it := range group {
			if it.err == nil && d.writes(it) {
				send = append(send, it)
			}
		}
		d.linkWritten(send, written)
		if err := d.write(ctx, send, res); err != nil {
			for _, it := range send {
				it.refuse(err)
			}
			continue
		}
		for _, it := range send {
			if r := res.responses[it.index]; r != nil {
				loc, _ := r["response"].(map[string]any)["location"].(string)
				if i := strings.Index(loc, "/_history/"); i >= 0 {
					written[it.index] = loc[:i]
				}
			}
		}
	}
	return d.response("batch-response", res), nil
}

// failDependents refuses the entries of group that refer to an entry
// that was refused, or that is neither stored nor written with them.
func (d *deposit) failDependents(group []*item, written map[int]string) {
	in := map[int]bool{}
	for _, it := range group {
		in[it.index] = true
	}
	for _, it := range group {
		if it.err != nil || it.role == roleReason {
			continue
		}
		for _, dep := range it.deps {
			other := d.items[dep]
			if other.role == roleReason || (other.err == nil && (in[dep] || other.existing != nil || written[dep] != "")) {
				continue
			}
			it.refuse(outcome.At(outcome.Unprocessable, it.path(), "entry %d, which this entry refers to, was refused", dep))
			break
		}
	}
}

// linkWritten replaces, in the entries to send, the fullUrls of entries
// written before by their Type/id.
func (d *deposit) linkWritten(send []*item, written map[int]string) {
	for _, it := range send {
		if it.res == nil {
			continue
		}
		walkLinks(it.res, func(s string) (string, bool) {
			base, frag, _ := strings.Cut(s, "#")
			other, ok := d.byURL[base]
			if !ok || written[other.index] == "" {
				return "", false
			}
			if frag != "" {
				return written[other.index] + "#" + frag, true
			}
			return written[other.index], true
		})
	}
}

// components are the entries grouped into the strongly connected
// components of "refers to" (Tarjan's algorithm), each after the
// components it refers to; Patients are visited first, then the rest in
// Bundle order.
func (d *deposit) components() [][]*item {
	var (
		index   = map[int]int{}
		low     = map[int]int{}
		onStack = map[int]bool{}
		stack   []int
		out     [][]*item
		next    int
	)
	var visit func(v int)
	visit = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range d.items[v].deps {
			if _, seen := index[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var comp []*item
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			comp = append(comp, d.items[w])
			if w == v {
				break
			}
		}
		out = append(out, comp)
	}
	for _, r := range []role{rolePatient, roleRecord, roleBinary, roleReason} {
		for _, it := range d.items {
			if _, seen := index[it.index]; !seen && it.role == r {
				visit(it.index)
			}
		}
	}
	return out
}

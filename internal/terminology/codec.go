package terminology

import (
	"compress/gzip"
	"encoding/gob"
	"fmt"
	"io"
	"sort"
)

// formatVersion changes whenever the wire types below change.
const formatVersion = 1

// The wire form of Tables: code systems by position, value sets pointing at
// them by index, hierarchy as parent indices (children are rebuilt on load).
type (
	wireTables struct {
		Format    int
		Systems   []wireSystem
		ValueSets []wireValueSet
	}
	wireSystem struct {
		URL, Version, Name, Content string
		CaseSensitive               bool
		Concepts                    []wireConcept
	}
	wireConcept struct {
		Code, Display string
		Flags         uint8 // flagAbstract | flagInactive
		Parents       []int32
		Designations  []Designation
	}
	wireValueSet struct {
		URL, Version, Name, NotEnumerable string
		Members                           []wireMembers
	}
	wireMembers struct {
		System int32
		Bits   []uint64
	}
)

const (
	flagAbstract uint8 = 1 << iota
	flagInactive
)

// Encode writes the tables as gzip-compressed gob, the form Load reads.
func (t *Tables) Encode(w io.Writer) error {
	var wt wireTables
	wt.Format = formatVersion
	pos := map[*CodeSystem]int32{}
	for _, u := range sortedKeys(t.systems) {
		cs := t.systems[u]
		pos[cs] = int32(len(wt.Systems))
		wt.Systems = append(wt.Systems, toWireSystem(cs))
	}
	for _, u := range sortedKeys(t.valueSets) {
		vs := t.valueSets[u]
		wv := wireValueSet{URL: vs.URL, Version: vs.Version, Name: vs.Name, NotEnumerable: vs.NotEnumerable}
		for _, m := range vs.members {
			wv.Members = append(wv.Members, wireMembers{System: pos[m.system], Bits: m.bits})
		}
		wt.ValueSets = append(wt.ValueSets, wv)
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if err := gob.NewEncoder(zw).Encode(&wt); err != nil {
		return fmt.Errorf("terminology: encode: %w", err)
	}
	return zw.Close()
}

func toWireSystem(cs *CodeSystem) wireSystem {
	ws := wireSystem{URL: cs.URL, Version: cs.Version, Name: cs.Name, Content: cs.Content, CaseSensitive: cs.CaseSensitive}
	ws.Concepts = make([]wireConcept, len(cs.Concepts))
	for i, c := range cs.Concepts {
		wc := wireConcept{Code: c.Code, Display: c.Display, Parents: c.Parents, Designations: c.Designations}
		if c.Abstract {
			wc.Flags |= flagAbstract
		}
		if c.Inactive {
			wc.Flags |= flagInactive
		}
		ws.Concepts[i] = wc
	}
	return ws
}

// Decode reads tables written by Encode.
func Decode(r io.Reader) (*Tables, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("terminology: decode: %w", err)
	}
	var wt wireTables
	if err := gob.NewDecoder(zr).Decode(&wt); err != nil {
		return nil, fmt.Errorf("terminology: decode: %w", err)
	}
	if wt.Format != formatVersion {
		return nil, fmt.Errorf("terminology: decode: format %d, want %d (run go generate)", wt.Format, formatVersion)
	}
	t := &Tables{systems: make(map[string]*CodeSystem, len(wt.Systems)), valueSets: make(map[string]*ValueSet, len(wt.ValueSets))}
	byPos := make([]*CodeSystem, len(wt.Systems))
	for i, ws := range wt.Systems {
		cs, err := fromWireSystem(ws)
		if err != nil {
			return nil, err
		}
		byPos[i] = cs
		t.systems[cs.URL] = cs
	}
	for _, wv := range wt.ValueSets {
		vs := &ValueSet{URL: wv.URL, Version: wv.Version, Name: wv.Name, NotEnumerable: wv.NotEnumerable}
		for _, m := range wv.Members {
			if m.System < 0 || int(m.System) >= len(byPos) {
				return nil, fmt.Errorf("terminology: decode: value set %s: bad system %d", wv.URL, m.System)
			}
			vs.members = append(vs.members, memberSet{system: byPos[m.System], bits: m.Bits})
		}
		t.valueSets[vs.URL] = vs
	}
	return t, nil
}

func fromWireSystem(ws wireSystem) (*CodeSystem, error) {
	cs := &CodeSystem{URL: ws.URL, Version: ws.Version, Name: ws.Name, Content: ws.Content, CaseSensitive: ws.CaseSensitive}
	cs.Concepts = make([]CodeConcept, len(ws.Concepts))
	for i, wc := range ws.Concepts {
		for _, p := range wc.Parents {
			if p < 0 || int(p) >= len(ws.Concepts) {
				return nil, fmt.Errorf("terminology: decode: %s|%s: bad parent %d", ws.URL, wc.Code, p)
			}
		}
		cs.Concepts[i] = CodeConcept{
			Code: wc.Code, Display: wc.Display, Parents: wc.Parents, Designations: wc.Designations,
			Abstract: wc.Flags&flagAbstract != 0, Inactive: wc.Flags&flagInactive != 0,
		}
	}
	cs.reindex()
	return cs, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

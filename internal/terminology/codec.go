package terminology

import (
	"compress/gzip"
	"encoding/gob"
	"fmt"
	"io"
)

// formatVersion changes whenever the wire types below change.
const formatVersion = 3

// The wire form of Tables: code systems with the hierarchy as parent
// indices (children are rebuilt on load), value set definitions (their
// expansions are computed on use, never stored) and concept maps.
type (
	wireTables struct {
		Format      int
		Systems     []wireSystem
		ValueSets   []*ValueSetDefinition
		ConceptMaps []*ConceptMap
	}
	wireSystem struct {
		URL, Version, Name, Title, Content, Supplements string
		CaseSensitive                                   bool
		Concepts                                        []wireConcept
	}
	wireConcept struct {
		Code, Display, Definition string
		Flags                     uint8 // flagAbstract | flagInactive
		Parents                   []int32
		Designations              []Designation
		Properties                []Property
	}
)

const (
	flagAbstract uint8 = 1 << iota
	flagInactive
	flagDeprecated
)

// Encode writes the built-in resources of the tables (not those a Service
// added) as gzip-compressed gob, the form Load reads.
func (t *Tables) Encode(w io.Writer) error {
	wt := wireTables{Format: formatVersion}
	for _, u := range sortedKeys(t.systems) {
		for _, e := range t.systems[u] {
			if !e.stored {
				wt.Systems = append(wt.Systems, toWireSystem(e.item))
			}
		}
	}
	for _, u := range sortedKeys(t.valueSets) {
		for _, e := range t.valueSets[u] {
			if !e.stored {
				def := *e.item
				def.Expansion = nil
				wt.ValueSets = append(wt.ValueSets, &def)
			}
		}
	}
	for _, u := range sortedKeys(t.conceptMaps) {
		for _, e := range t.conceptMaps[u] {
			if !e.stored {
				wt.ConceptMaps = append(wt.ConceptMaps, e.item)
			}
		}
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
	ws := wireSystem{URL: cs.URL, Version: cs.Version, Name: cs.Name, Title: cs.Title, Content: cs.Content,
		Supplements: cs.Supplements, CaseSensitive: cs.CaseSensitive}
	ws.Concepts = make([]wireConcept, len(cs.Concepts))
	for i, c := range cs.Concepts {
		wc := wireConcept{Code: c.Code, Display: c.Display, Definition: c.Definition, Parents: c.Parents,
			Designations: c.Designations, Properties: c.Properties}
		if c.Abstract {
			wc.Flags |= flagAbstract
		}
		if c.Inactive {
			wc.Flags |= flagInactive
		}
		if c.Deprecated {
			wc.Flags |= flagDeprecated
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
	b := NewBuilder()
	for _, ws := range wt.Systems {
		cs, err := fromWireSystem(ws)
		if err != nil {
			return nil, err
		}
		b.AddCodeSystem(cs)
	}
	for _, def := range wt.ValueSets {
		b.AddValueSet(def)
	}
	for _, cm := range wt.ConceptMaps {
		b.AddConceptMap(cm)
	}
	t := b.t
	t.fragments = refreshFragments(t, nil)
	return t, nil
}

func fromWireSystem(ws wireSystem) (*CodeSystem, error) {
	cs := &CodeSystem{URL: ws.URL, Version: ws.Version, Name: ws.Name, Title: ws.Title, Content: ws.Content,
		Supplements: ws.Supplements, CaseSensitive: ws.CaseSensitive}
	cs.Concepts = make([]CodeConcept, len(ws.Concepts))
	for i, wc := range ws.Concepts {
		for _, p := range wc.Parents {
			if p < 0 || int(p) >= len(ws.Concepts) {
				return nil, fmt.Errorf("terminology: decode: %s|%s: bad parent %d", ws.URL, wc.Code, p)
			}
		}
		cs.Concepts[i] = CodeConcept{
			Code: wc.Code, Display: wc.Display, Definition: wc.Definition, Parents: wc.Parents,
			Designations: wc.Designations, Properties: wc.Properties,
			Abstract: wc.Flags&flagAbstract != 0, Inactive: wc.Flags&flagInactive != 0, Deprecated: wc.Flags&flagDeprecated != 0,
		}
	}
	cs.reindex()
	return cs, nil
}

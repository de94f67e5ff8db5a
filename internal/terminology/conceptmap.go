package terminology

import (
	"encoding/json"
	"fmt"
)

// ConceptMap is a set of mappings from the codes of source systems to those
// of target systems (http://hl7.org/fhir/R4/conceptmap.html).
type ConceptMap struct {
	URL     string
	Version string
	Name    string
	Source  string // source value set (sourceUri or sourceCanonical)
	Target  string // target value set (targetUri or targetCanonical)
	Groups  []MapGroup
}

// MapGroup is ConceptMap.group: mappings from one source system to one
// target system.
type MapGroup struct {
	Source, SourceVersion string
	Target, TargetVersion string
	Elements              []MapElement
	Unmapped              *Unmapped
}

// MapElement is ConceptMap.group.element: one source code and its targets.
type MapElement struct {
	Code    string
	Display string
	Targets []MapTarget
}

// MapTarget is ConceptMap.group.element.target.
type MapTarget struct {
	Code        string
	Display     string
	Equivalence string // http://hl7.org/fhir/R4/valueset-concept-map-equivalence.html
	Comment     string
}

// Unmapped is ConceptMap.group.unmapped: what to do with a source code the
// group has no element for. Mode is provided (use the source code),
// fixed (use Code) or other-map (translate with the map at URL).
type Unmapped struct {
	Mode, Code, Display, URL string
}

type conceptMapJSON struct {
	ResourceType    string `json:"resourceType"`
	URL             string `json:"url"`
	Version         string `json:"version"`
	Name            string `json:"name"`
	SourceURI       string `json:"sourceUri"`
	SourceCanonical string `json:"sourceCanonical"`
	TargetURI       string `json:"targetUri"`
	TargetCanonical string `json:"targetCanonical"`
	Group           []struct {
		Source        string `json:"source"`
		SourceVersion string `json:"sourceVersion"`
		Target        string `json:"target"`
		TargetVersion string `json:"targetVersion"`
		Element       []struct {
			Code    string `json:"code"`
			Display string `json:"display"`
			Target  []struct {
				Code        string `json:"code"`
				Display     string `json:"display"`
				Equivalence string `json:"equivalence"`
				Comment     string `json:"comment"`
			} `json:"target"`
		} `json:"element"`
		Unmapped *struct {
			Mode    string `json:"mode"`
			Code    string `json:"code"`
			Display string `json:"display"`
			URL     string `json:"url"`
		} `json:"unmapped"`
	} `json:"group"`
}

// ParseConceptMap reads a ConceptMap resource in FHIR JSON.
func ParseConceptMap(data []byte) (*ConceptMap, error) {
	var in conceptMapJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("terminology: parse ConceptMap: %w", err)
	}
	if in.ResourceType != "ConceptMap" || in.URL == "" {
		return nil, fmt.Errorf("terminology: parse ConceptMap: not a ConceptMap with a url")
	}
	cm := &ConceptMap{URL: in.URL, Version: in.Version, Name: in.Name,
		Source: first(in.SourceURI, in.SourceCanonical), Target: first(in.TargetURI, in.TargetCanonical)}
	for _, g := range in.Group {
		mg := MapGroup{Source: g.Source, SourceVersion: g.SourceVersion, Target: g.Target, TargetVersion: g.TargetVersion}
		for _, e := range g.Element {
			me := MapElement{Code: e.Code, Display: e.Display}
			for _, t := range e.Target {
				me.Targets = append(me.Targets, MapTarget{Code: t.Code, Display: t.Display, Equivalence: t.Equivalence, Comment: t.Comment})
			}
			mg.Elements = append(mg.Elements, me)
		}
		if u := g.Unmapped; u != nil {
			mg.Unmapped = &Unmapped{Mode: u.Mode, Code: u.Code, Display: u.Display, URL: u.URL}
		}
		cm.Groups = append(cm.Groups, mg)
	}
	return cm, nil
}

func first(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

package terminology

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ehealthplus/ehealth/internal/fhir"
)

// maxFile bounds what ReadFile reads, so a wrong file cannot exhaust memory.
const maxFile = 512 << 20

// ReadFile reads the CodeSystem, ValueSet and ConceptMap resources in a
// file, for `ehealth terminology load`: FHIR JSON (one resource or a
// Bundle of them), NDJSON, or a CSV code system (see ReadCSV); a .gz
// suffix is decompressed. Resources of other types in a Bundle or NDJSON
// file are skipped.
func ReadFile(path string) ([]map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("terminology: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	name := path
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("terminology: %s: %w", path, err)
		}
		r, name = zr, strings.TrimSuffix(name, ".gz")
	}
	data, err := io.ReadAll(io.LimitReader(r, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("terminology: %s: %w", path, err)
	}
	if len(data) > maxFile {
		return nil, fmt.Errorf("terminology: %s: larger than %d bytes", path, maxFile)
	}
	var out []map[string]any
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		var cs map[string]any
		cs, err = ReadCSV(bytes.NewReader(data), filepath.Base(name))
		out = []map[string]any{cs}
	case ".ndjson":
		out, err = readNDJSON(data)
	default:
		out, err = readJSON(data)
	}
	if err != nil {
		return nil, fmt.Errorf("terminology: %s: %w", path, err)
	}
	return out, nil
}

func isTerminology(res map[string]any) bool {
	switch res["resourceType"] {
	case "CodeSystem", "ValueSet", "ConceptMap":
		return true
	}
	return false
}

func readJSON(data []byte) ([]map[string]any, error) {
	res, err := fhir.Parse(data)
	if err != nil {
		return nil, err
	}
	if res["resourceType"] != "Bundle" {
		if !isTerminology(res) {
			return nil, fmt.Errorf("a %v is not a CodeSystem, ValueSet or ConceptMap", res["resourceType"])
		}
		return []map[string]any{res}, nil
	}
	var out []map[string]any
	entries, _ := res["entry"].([]any)
	for _, e := range entries {
		em, _ := e.(map[string]any)
		if r, ok := em["resource"].(map[string]any); ok && isTerminology(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func readNDJSON(data []byte) ([]map[string]any, error) {
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), maxFile)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		res, err := fhir.Parse(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if isTerminology(res) {
			out = append(out, res)
		}
	}
	return out, sc.Err()
}

var (
	idUnsafe   = regexp.MustCompile(`[^A-Za-z0-9.-]+`)
	nameUnsafe = regexp.MustCompile(`[^A-Za-z0-9_]+`)
)

// ReadCSV reads a code system in the simple CSV form operators use for
// local terminologies (a Hong Kong clinical terms table, drug or vaccine
// codes) and returns it as a CodeSystem resource. Leading lines starting
// with '#' give metadata as "# key: value" (url, which is required,
// version, name, title, id, language); then come records of
//
//	code,display,display-zh,parent
//
// with an optional header row of those names. display-zh becomes a
// designation in zh-HK (or the language a header "display-LANG" names);
// parent is the code of the parent concept, several separated by '|'.
// Codes must be unique and parents must exist and form no cycle. fileName
// gives the default name and id.
func ReadCSV(r io.Reader, fileName string) (map[string]any, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFile+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("csv: %w", err)
	case len(data) > maxFile:
		return nil, fmt.Errorf("csv: larger than %d bytes", maxFile)
	case !utf8.Valid(data):
		return nil, errors.New("csv: the file is not UTF-8")
	}
	// Spreadsheets often start a UTF-8 file with a byte order mark.
	br := bufio.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	meta, err := readMeta(br)
	if err != nil {
		return nil, err
	}
	if meta["url"] == "" {
		return nil, errors.New("csv: a '# url: …' line naming the code system is required")
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	records, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	lang := "zh-HK"
	if len(records) > 0 && strings.EqualFold(strings.TrimSpace(records[0][0]), "code") {
		if len(records[0]) > 2 {
			if l, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(records[0][2])), "display-"); ok && CheckLanguageTag(l) == nil {
				lang = canonicalLang(l)
			}
		}
		records = records[1:]
	}
	concepts, err := csvConcepts(records, lang)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(fileName, filepath.Ext(fileName))
	cs := map[string]any{
		"resourceType": "CodeSystem", "url": meta["url"], "status": "active", "content": "complete",
		"caseSensitive": true, "hierarchyMeaning": "is-a", "count": json.Number(strconv.Itoa(len(concepts))),
		"property": []any{map[string]any{"code": "parent", "uri": "http://hl7.org/fhir/concept-properties#parent", "type": "code"}},
		"concept":  concepts,
	}
	id := first(meta["id"], strings.Trim(idUnsafe.ReplaceAllString(base, "-"), "-"), "codesystem")
	cs["id"] = id[:min(len(id), 64)]
	cs["name"] = first(meta["name"], csvName(base))
	for _, k := range []string{"version", "title", "language"} {
		if meta[k] != "" {
			cs[k] = meta[k]
		}
	}
	return cs, nil
}

// readMeta reads the leading "# key: value" lines.
func readMeta(br *bufio.Reader) (map[string]string, error) {
	meta := map[string]string{}
	for {
		b, err := br.Peek(1)
		if err != nil || b[0] != '#' {
			return meta, nil
		}
		line, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("csv: %w", err)
		}
		k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), ":")
		if ok {
			meta[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
		if err == io.EOF {
			return meta, nil
		}
	}
}

// csvConcepts turns the records into CodeSystem.concept entries, checking
// codes are unique and parents exist without cycles.
func csvConcepts(records [][]string, lang string) ([]any, error) {
	parentsOf := map[string][]string{}
	var order []string
	out := make([]any, 0, len(records))
	for i, rec := range records {
		field := func(n int) string {
			if n < len(rec) {
				return strings.TrimSpace(rec[n])
			}
			return ""
		}
		code := field(0)
		if code == "" && len(rec) == 1 {
			continue // blank line
		}
		switch {
		case code == "":
			return nil, fmt.Errorf("csv: record %d: empty code", i+1)
		case len(rec) > 4:
			return nil, fmt.Errorf("csv: record %d: %d fields, want code,display,display-zh,parent", i+1, len(rec))
		case parentsOf[code] != nil:
			return nil, fmt.Errorf("csv: record %d: code %q appears twice", i+1, code)
		}
		c := map[string]any{"code": code}
		if d := field(1); d != "" {
			c["display"] = d
		}
		if zh := field(2); zh != "" {
			c["designation"] = []any{map[string]any{"language": lang, "value": zh}}
		}
		parentsOf[code] = []string{}
		var props []any
		for _, p := range strings.Split(field(3), "|") {
			if p = strings.TrimSpace(p); p != "" {
				parentsOf[code] = append(parentsOf[code], p)
				props = append(props, map[string]any{"code": "parent", "valueCode": p})
			}
		}
		if len(props) > 0 {
			c["property"] = props
		}
		order = append(order, code)
		out = append(out, c)
	}
	return out, checkHierarchy(order, parentsOf)
}

// checkHierarchy reports a parent that is not a code, or a cycle.
func checkHierarchy(order []string, parentsOf map[string][]string) error {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var visit func(code string) error
	visit = func(code string) error {
		switch state[code] {
		case visiting:
			return fmt.Errorf("csv: code %q is its own ancestor", code)
		case done:
			return nil
		}
		state[code] = visiting
		for _, p := range parentsOf[code] {
			if _, ok := parentsOf[p]; !ok {
				return fmt.Errorf("csv: code %q has parent %q, which is not in the file", code, p)
			}
			if err := visit(p); err != nil {
				return err
			}
		}
		state[code] = done
		return nil
	}
	for _, c := range order {
		if err := visit(c); err != nil {
			return err
		}
	}
	return nil
}

// csvName makes a FHIR name ([A-Z][A-Za-z0-9_]*) from a file name.
func csvName(base string) string {
	var b strings.Builder
	for _, part := range nameUnsafe.Split(base, -1) {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	name := b.String()
	if name == "" || name[0] < 'A' || name[0] > 'Z' {
		name = "CodeSystem" + name
	}
	return name
}

// canonicalLang writes a language tag in its usual case: "zh-hk" → "zh-HK".
func canonicalLang(tag string) string {
	parts := strings.Split(tag, "-")
	for i := 1; i < len(parts); i++ {
		switch len(parts[i]) {
		case 2:
			parts[i] = strings.ToUpper(parts[i])
		case 4:
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "-")
}

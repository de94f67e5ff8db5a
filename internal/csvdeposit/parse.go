package csvdeposit

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/terminology"
)

// The limits of one file. A file beyond either is refused as a whole —
// nothing is stored, whatever KeepValid says — since what is cut off
// cannot be reported row by row: Parse stops reading there, reports the
// limit (row 0) and returns an outcome.TooLarge error (413). Split larger
// uploads into several files.
const (
	DefaultMaxRows  = 10_000  // data rows, the header not counted
	DefaultMaxBytes = 8 << 20 // 8 MiB
	// MaxProblems is the most problems a report lists; it counts the rest
	// (Report.Unlisted).
	MaxProblems = 1000
)

// Options are the upload's context.
type Options struct {
	// Organization is the depositing provider, "Organization/ID"
	// (required): the records' performer and the owner of the source
	// identifiers.
	Organization string
	// PractitionerRole is the professional uploading, "PractitionerRole/ID"
	// (optional): the records' performer, recorder or requester.
	PractitionerRole string
	// KeepValid deposits the valid rows of a file that has errors; without
	// it any error means no Bundle.
	KeepValid bool
	// MaxRows and MaxBytes bound the file (DefaultMaxRows and
	// DefaultMaxBytes when 0).
	MaxRows  int
	MaxBytes int64
	// Terminology, when set, checks codes of the code systems it holds
	// (a stored local vaccine or drug list, say): a code not in such a
	// system is an error. Codes of systems it does not hold are checked
	// for their format only.
	Terminology *terminology.Service
	// Now is the clock dates are checked against (no future dates);
	// time.Now when nil.
	Now func() time.Time
	// Location is the time zone of times written without one; Hong Kong
	// (UTC+8) when nil.
	Location *time.Location
}

// Problem is one thing wrong in a file.
type Problem struct {
	// Row is the row as a spreadsheet numbers it: the header is row 1, the
	// first data row 2; 0 for the file as a whole.
	Row int `json:"row"`
	// Column is the column at fault; "" for a whole row or the file.
	Column string `json:"column,omitempty"`
	// Code is a stable name of the kind of problem (the Code constants).
	Code Code `json:"code"`
	// Message says what is wrong in English, MessageZH in Traditional
	// Chinese. Neither repeats an identity document number.
	Message   string `json:"message"`
	MessageZH string `json:"messageZh"`
}

// Code names a kind of problem.
type Code string

// The kinds of problem.
const (
	CodeHeader    Code = "header"            // a required column missing, an unknown or repeated one
	CodeCSV       Code = "csv"               // the file is not well-formed CSV
	CodeEncoding  Code = "encoding"          // not UTF-8
	CodeLimit     Code = "limit"             // the file is above a limit
	CodeRequired  Code = "required"          // a required cell is empty
	CodeFormat    Code = "format"            // a date or number that does not parse
	CodeValue     Code = "value"             // not one of the values the column takes
	CodeIdentity  Code = "identity-document" // an identity document that is not valid (HKID check digit …)
	CodeSystem    Code = "code-system"       // a code system the column does not take
	CodeUnknown   Code = "code"              // a code that is malformed or not in its code system
	CodeUnit      Code = "unit"              // a unit the measurement does not take
	CodeRange     Code = "range"             // a value or date outside what is plausible
	CodeDuplicate Code = "duplicate"         // a record id already used in the file
	CodeConflict  Code = "patient-conflict"  // the same document with another name, birth date or record number
)

// Report is what Parse found.
type Report struct {
	Template string `json:"template"`
	// Rows is the number of data rows read (blank rows are skipped);
	// Accepted of them are in the Bundle; Rejected had errors.
	Rows     int `json:"rows"`
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
	// Problems are listed by row; Unlisted counts those beyond MaxProblems.
	Problems []Problem `json:"problems"`
	Unlisted int       `json:"unlisted,omitempty"`
}

// Result is the report and, when there is something to store, the
// deposit Bundle.
type Result struct {
	Report Report
	// Bundle is a FHIR transaction Bundle (generic JSON): nil when the file
	// has errors and KeepValid is off, or when no row is valid.
	Bundle map[string]any
}

var orgRE = regexp.MustCompile(`^Organization/([A-Za-z0-9\-.]{1,64})$`)
var roleRE = regexp.MustCompile(`^PractitionerRole/[A-Za-z0-9\-.]{1,64}$`)

// hongKong is UTC+8 without daylight saving.
var hongKong = time.FixedZone("HKT", 8*3600)

// errTooLarge marks the byte limit, from limitReader.
var errTooLarge = errors.New("csvdeposit: file above the size limit")

// Parse reads a CSV file of the named template and checks it row by row.
// The error is an *outcome.Error: Invalid for an unknown template or bad
// options, TooLarge for a file beyond the limits (its Result still holds
// the report), Invalid for a read failure. A file with problems is not an
// error: the report says what is wrong and the Bundle is nil (or, with
// KeepValid, holds the valid rows).
func Parse(template string, r io.Reader, opts Options) (Result, error) {
	spec, ok := specs[template]
	if !ok {
		_, err := Lookup(template)
		return Result{}, err
	}
	p, err := newParser(spec, opts)
	if err != nil {
		return Result{}, err
	}
	err = p.read(r)
	res := Result{Report: p.report}
	switch {
	case errors.Is(err, errTooLarge):
		return res, outcome.Wrap(outcome.TooLarge, "csv", err)
	case err != nil:
		return res, outcome.Wrap(outcome.Invalid, "csv: read the file", err)
	}
	res.Bundle = p.bundle()
	return res, nil
}

// parser is the state of one Parse.
type parser struct {
	spec  *Spec
	opts  Options
	org   string // the Organization's id
	now   time.Time
	codes *terminology.Tables

	report   Report
	fatal    bool // a file-level problem: nothing is stored
	columns  []string
	patients *patients
	records  []map[string]any // the valid rows' resources, in order
	ids      map[string]int   // record id → row that used it
}

func newParser(spec *Spec, opts Options) (*parser, error) {
	m := orgRE.FindStringSubmatch(opts.Organization)
	if m == nil {
		return nil, outcome.At(outcome.Invalid, "organization", "the depositing provider must be Organization/ID, not %q", opts.Organization)
	}
	if opts.PractitionerRole != "" && !roleRE.MatchString(opts.PractitionerRole) {
		return nil, outcome.At(outcome.Invalid, "practitionerRole", "the professional must be PractitionerRole/ID, not %q", opts.PractitionerRole)
	}
	if opts.MaxRows <= 0 {
		opts.MaxRows = DefaultMaxRows
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Location == nil {
		opts.Location = hongKong
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	p := &parser{spec: spec, opts: opts, org: m[1], now: now().In(opts.Location), patients: newPatients(), ids: map[string]int{}}
	if opts.Terminology != nil {
		p.codes = opts.Terminology.Tables()
	}
	p.report.Template = spec.Name
	p.report.Problems = []Problem{}
	return p, nil
}

// read reads the whole file, row by row.
func (p *parser) read(r io.Reader) error {
	br := bufio.NewReader(&limitReader{r: r, left: p.opts.MaxBytes})
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte(utf8BOM)) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comma = sniffComma(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			if n == 1 {
				p.fileProblem(CodeHeader, "the file is empty: the first row must be the template's header", "檔案是空的：第一行必須是範本的標題列")
			}
			return nil
		}
		if err != nil {
			return p.readError(n, err)
		}
		if n == 1 {
			p.header(rec)
			if p.fatal {
				return nil
			}
			continue
		}
		if blank(rec) {
			continue
		}
		if p.report.Rows == p.opts.MaxRows {
			p.limit(fmt.Sprintf("more than %d data rows", p.opts.MaxRows), fmt.Sprintf("超過 %d 行資料", p.opts.MaxRows))
			return fmt.Errorf("%w: more than %d rows", errTooLarge, p.opts.MaxRows)
		}
		p.report.Rows++
		p.row(n, rec)
	}
}

// readError reports a read failure: the byte limit, or a CSV syntax
// error, after which the rest of the file cannot be trusted.
func (p *parser) readError(n int, err error) error {
	if errors.Is(err, errTooLarge) {
		p.limit(fmt.Sprintf("larger than %d bytes", p.opts.MaxBytes), fmt.Sprintf("大於 %d 位元組", p.opts.MaxBytes))
		return err
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	p.fatal = true
	p.add(Problem{Row: n, Code: CodeCSV,
		Message:   fmt.Sprintf("the file is not valid CSV here (%v); nothing after it was read, and nothing is stored", pe.Err),
		MessageZH: "檔案在此處不是有效的 CSV 格式；其後內容未被讀取，亦不會儲存任何資料"})
	return nil
}

func (p *parser) limit(en, zh string) {
	p.fatal = true
	p.fileProblem(CodeLimit, "the file is "+en+": it is refused as a whole, nothing is stored; split it into smaller files",
		"檔案"+zh+"：整個檔案不被接受，不會儲存任何資料；請分拆為較小的檔案")
}

// sniffComma picks the separator from the header line: a semicolon when
// it has semicolons and no commas (spreadsheets in some locales save so),
// else a comma.
func sniffComma(br *bufio.Reader) rune {
	head, _ := br.Peek(4096)
	if i := bytes.IndexAny(head, "\r\n"); i >= 0 {
		head = head[:i]
	}
	if bytes.IndexByte(head, ';') >= 0 && bytes.IndexByte(head, ',') < 0 {
		return ';'
	}
	return ','
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// header reads the header row: every required column present, none
// unknown or repeated.
func (p *parser) header(rec []string) {
	seen := map[string]bool{}
	for i, h := range rec {
		name := strings.ToLower(strings.TrimSpace(h))
		p.columns = append(p.columns, name)
		switch _, known := p.spec.column(name); {
		case name == "":
			if !blank(rec[i:]) {
				p.fileProblemAt(1, CodeHeader, fmt.Sprintf("column %d has no name in the header", i+1), fmt.Sprintf("標題列第 %d 欄沒有名稱", i+1))
			}
		case !utf8.ValidString(name):
			p.fileProblemAt(1, CodeEncoding, "the file is not UTF-8: save it as \"CSV UTF-8\"", "檔案不是 UTF-8 編碼：請另存為「CSV UTF-8」")
			return
		case !known:
			p.fileProblemAt(1, CodeHeader, fmt.Sprintf("unknown column %q: the %s template has no such column (check the spelling against the template)", truncate(name, 40), p.spec.Name),
				fmt.Sprintf("未知欄位「%s」：%s 範本沒有此欄（請對照範本檢查拼寫）", truncate(name, 40), p.spec.TitleZH))
		case seen[name]:
			p.fileProblemAt(1, CodeHeader, fmt.Sprintf("column %q appears twice", name), fmt.Sprintf("欄位「%s」重複出現", name))
		}
		seen[name] = true
	}
	for _, c := range p.spec.Columns {
		if c.Required && !seen[c.Name] {
			p.fileProblemAt(1, CodeHeader, fmt.Sprintf("required column %q is missing", c.Name), fmt.Sprintf("缺少必填欄位「%s」", c.Name))
		}
	}
}

func (p *parser) fileProblem(code Code, en, zh string) { p.fileProblemAt(0, code, en, zh) }

func (p *parser) fileProblemAt(row int, code Code, en, zh string) {
	p.fatal = true
	p.add(Problem{Row: row, Code: code, Message: en, MessageZH: zh})
}

func (p *parser) add(pr Problem) {
	if len(p.report.Problems) >= MaxProblems {
		p.report.Unlisted++
		return
	}
	p.report.Problems = append(p.report.Problems, pr)
}

// row checks one data row and keeps its record when it is valid.
func (p *parser) row(n int, rec []string) {
	r := &row{p: p, n: n, cells: map[string]string{}}
	if len(rec) > len(p.columns) && !blank(rec[len(p.columns):]) {
		r.fail("", CodeCSV, fmt.Sprintf("the row has %d cells but the header %d columns", len(rec), len(p.columns)),
			fmt.Sprintf("此行有 %d 格，但標題列只有 %d 欄", len(rec), len(p.columns)))
	}
	for i, c := range rec {
		if i >= len(p.columns) || p.columns[i] == "" {
			continue
		}
		if !utf8.ValidString(c) {
			r.fail(p.columns[i], CodeEncoding, "the cell is not UTF-8 text: save the file as \"CSV UTF-8\"", "此格不是 UTF-8 文字：請將檔案另存為「CSV UTF-8」")
			continue
		}
		if strings.IndexFunc(c, control) >= 0 {
			r.fail(p.columns[i], CodeEncoding, "the cell holds control characters", "此格含有控制字元")
			continue
		}
		r.cells[p.columns[i]] = strings.TrimSpace(c)
	}
	for _, c := range p.spec.Columns {
		if c.Required && r.cells[c.Name] == "" {
			r.fail(c.Name, CodeRequired, "a value is required", "必須填寫")
		}
	}
	id := r.recordID()
	r.patient()
	res := p.spec.build(r)
	if r.failed {
		p.report.Rejected++
		return
	}
	p.ids[id] = n
	p.patients.add(r.cand)
	p.records = append(p.records, res)
	p.report.Accepted++
}

// control reports the characters a FHIR string may not hold (all
// controls but tab, line feed and carriage return).
func control(r rune) bool {
	return r < ' ' && r != '\t' && r != '\n' && r != '\r' || r == 0x7f || r >= 0x80 && r < 0xa0
}

// limitReader reads at most left bytes, then fails with errTooLarge.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(b []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells a file of exactly the limit from a larger one.
		var one [1]byte
		if n, err := l.r.Read(one[:]); n > 0 {
			return 0, errTooLarge
		} else if err != nil {
			return 0, err
		}
		return 0, nil
	}
	if int64(len(b)) > l.left {
		b = b[:l.left]
	}
	n, err := l.r.Read(b)
	l.left -= int64(n)
	return n, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

package validate

//go:generate go run ./gen -defs ../../../shared/fhir/definitions

// invariantDef is one FHIRPath constraint of the R4 definitions, as
// generated into invariantTable.
type invariantDef struct {
	Type     string // the resource or datatype whose snapshot holds it: "Patient", "Period"
	Path     string // the element it sits on: "Patient.contact", "Period"
	OfType   string // when set, the constraint applies only to values of this type (a choice element's profiled type)
	Key      string // "pat-1"
	Severity string // "error" or "warning"
	Human    string // the description of the rule
	Expr     string // the FHIRPath expression, evaluated on each value at Path
}

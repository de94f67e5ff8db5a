package fhirpath_test

import (
	"context"
	"fmt"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/fhirpath"
)

func Example() {
	obs, _ := fhir.Parse([]byte(`{"resourceType":"Observation","status":"final","code":{"text":"weight"},
		"valueQuantity":{"value":185,"unit":"lbs","system":"http://unitsofmeasure.org","code":"[lb_av]"}}`))
	expr := fhirpath.MustCompile("Observation.value.where($this > 80 'kg').value | Observation.status")
	out, err := expr.Evaluate(context.Background(), obs, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range out {
		fmt.Println(v.TypeName(), v)
	}
	// Output:
	// decimal 185
	// code final
}

func ExampleExpression_EvalBool() {
	pat, _ := fhir.Parse([]byte(`{"resourceType":"Patient","name":[{"family":"Chalmers"}]}`))
	inv := fhirpath.MustCompile("name.all(family.exists() or given.exists())")
	ok, decided, err := inv.EvalBool(context.Background(), pat, nil)
	fmt.Println(ok, decided, err)
	// Output: true true <nil>
}

func ExampleCompile() {
	_, err := fhirpath.Compile("Patient.name.where(use = )")
	fmt.Println(err)
	// Output: fhirpath: syntax error at line 1, column 26: unexpected ')'
}

// Package synthea turns Synthea's patient Bundles (synthetic US patients,
// https://github.com/synthetichealth/synthea) into what a Hong Kong
// provider's system would send eHealth+: the citizen's registration
// request ($register's Parameters) and a deposit Bundle for one provider
// (package deposit). Tests, the demo and the benchmarks use it. It works
// one Bundle at a time, so a directory of them streams in flat memory.
//
// The conversion:
//
//   - the citizen gets an HKID derived from the Synthea patient's id
//     (deterministic, with its check digit), the names without Synthea's
//     digits ("Ollie731" → "Ollie"), the birth date and sex, and a Hong
//     Kong mobile number derived from the id; a citizen under 16 on
//     Options.Today is registered by a parent as substitute decision
//     maker;
//   - the Patient entry carries the HKID and the provider's record number
//     (source system + "/patient"); every record entry gets a source
//     identifier in the provider's namespace (deposit.Namespace) naming
//     the source system, its value Synthea's id, and is POSTed (the
//     deposit keys it on that identifier);
//   - Synthea's Organization, Location, Practitioner and PractitionerRole
//     entries are not deposited (they belong to the providers' registry):
//     references to them — by urn:uuid, literal id or conditional
//     reference — point to the provider's registered Organization,
//     Location and Practitioner given in Options, or keep only their
//     display when none is given; Synthea's own Provenance is left out
//     (the deposit records the provenance of every change); urn:uuid
//     references between the records are kept;
//   - meta.profile (US Core) is dropped: the deposit declares the eHealth+
//     profiles the records are checked against.
package synthea

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// Read reads one Synthea Bundle (JSON, gzipped or not) from r.
func Read(r io.Reader) (map[string]any, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, err := br.Peek(2); err == nil && bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, outcome.Wrap(outcome.Invalid, "synthea: gzip", err)
		}
		defer zr.Close()
		src = zr
	}
	data, err := io.ReadAll(src)
	if err != nil {
		return nil, outcome.Wrap(outcome.Invalid, "synthea: read", err)
	}
	b, err := fhir.Parse(data)
	if err != nil {
		return nil, outcome.Wrap(outcome.Invalid, "synthea: parse", err)
	}
	return b, nil
}

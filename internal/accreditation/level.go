package accreditation

import (
	"slices"

	"github.com/ehealthplus/ehealth/internal/profile"
)

// Level is a provider's connectivity accreditation level.
type Level string

// The levels (DOMAIN.md "Connectivity accreditation": bronze 1 data type,
// silver 5, gold more than 5). The domain names no level for 2 to 4
// types: they keep bronze, since silver asks for five.
const (
	None   Level = "none"   // no record type deposited
	Bronze Level = "bronze" // 1 to 4 record types
	Silver Level = "silver" // exactly 5
	Gold   Level = "gold"   // 6 or more
)

// LevelFor is the level earned by depositing n record types.
func LevelFor(n int) Level {
	switch {
	case n <= 0:
		return None
	case n < 5:
		return Bronze
	case n == 5:
		return Silver
	}
	return Gold
}

// Mark is an extra mark shown beside the level.
type Mark string

// The marks: laboratory reports, and radiology (reports or images).
const (
	MarkLab       Mark = "lab"
	MarkRadiology Mark = "radiology"
)

// markTypes are the record types that earn each mark.
var markTypes = []struct {
	mark  Mark
	types []profile.RecordType
}{
	{MarkLab, []profile.RecordType{profile.LabReport}},
	{MarkRadiology, []profile.RecordType{profile.RadiologyReport, profile.RadiologyImage}},
}

// marksFor are the marks earned by the counted record types, in a fixed
// order.
func marksFor(counted []profile.RecordType) []Mark {
	var out []Mark
	for _, m := range markTypes {
		if slices.ContainsFunc(m.types, func(t profile.RecordType) bool { return slices.Contains(counted, t) }) {
			out = append(out, m.mark)
		}
	}
	return out
}

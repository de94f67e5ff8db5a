package store

import "strings"

// restrictedSuffix marks a restricted sub-compartment's key. '!' never
// appears in a FHIR id ([A-Za-z0-9\-\.]{1,64}), so no patient's own key
// can collide with it.
const restrictedSuffix = "!r"

// RestrictedKey is the patient key of a patient's restricted records: they
// are filed apart from the rest of the compartment, so an access predicate
// that lists or grants only the patient's own key never reaches them —
// not in a result, a total, an include, a chain or a history. Grants that
// open them are recorded under this key.
func RestrictedKey(patientKey string) string { return patientKey + restrictedSuffix }

// BaseKey is the patient key a (possibly restricted) key belongs to: the
// patient's own key.
func BaseKey(key string) string { return strings.TrimSuffix(key, restrictedSuffix) }

// IsRestrictedKey reports whether key files restricted records.
func IsRestrictedKey(key string) bool { return strings.HasSuffix(key, restrictedSuffix) }

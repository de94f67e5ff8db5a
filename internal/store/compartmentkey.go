package store

import "strings"

// A patient's compartment is filed under up to three patient keys: the
// patient's own, and two sub-compartment keys made of it and a suffix.
// '!' never appears in a FHIR id ([A-Za-z0-9\-\.]{1,64}), so no patient's
// own key can collide with a sub-compartment's.
const (
	restrictedSuffix = "!r"
	privateSuffix    = "!p"
)

// RestrictedKey is the patient key of a patient's restricted records: they
// are filed apart from the rest of the compartment, so an access predicate
// that lists or grants only the patient's own key never reaches them —
// not in a result, a total, an include, a chain or a history. Grants that
// open them are recorded under this key, and an Access lists this key to
// see them.
func RestrictedKey(patientKey string) string { return patientKey + restrictedSuffix }

// PrivateKey is the patient key of records only their writer and the
// operator may see: no access predicate lists or grants it, so only
// Access.All and Access.Writers reach them. The policy default files two
// kinds of record under it:
//
//   - a resource about several patients (a version whose compartment
//     elements name more than one distinct patient, such as a Group of
//     members or an Appointment with two patient participants), under
//     PrivateKey of the first patient: no single patient's predicate
//     may reveal another patient's involvement, and a search in that
//     patient's compartment by its writer or the operator still finds it;
//   - a Binary with no securityContext, or one pointing outside every
//     patient compartment, under PrivateKey("").
func PrivateKey(patientKey string) string { return patientKey + privateSuffix }

// CompartmentKeys are the keys patient key k's compartment is filed under:
// k itself, RestrictedKey(k) and PrivateKey(k). A search confined to the
// compartment reads rows of each, each under the access predicate, and
// re-keying a compartment moves each.
func CompartmentKeys(k string) []string {
	return []string{k, RestrictedKey(k), PrivateKey(k)}
}

// BaseKey is the patient key a (possibly restricted or private) key
// belongs to: the patient's own key ("" for PrivateKey("")).
func BaseKey(key string) string {
	base, _, _ := strings.Cut(key, "!")
	return base
}

// IsRestrictedKey reports whether key files restricted records.
func IsRestrictedKey(key string) bool { return strings.HasSuffix(key, restrictedSuffix) }

// IsPrivateKey reports whether key files records only their writer and
// the operator see.
func IsPrivateKey(key string) bool { return strings.HasSuffix(key, privateSuffix) }

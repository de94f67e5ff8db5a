// Package registry registers citizens and keeps the master patient index
// (MPI) and the providers' registry of eHealth+.
//
// Registration is an operation, not a plain write: POST Patient/$register
// validates the identity document (package identity), writes the master
// Patient, the joining Consent and, for a citizen under 16, the substitute
// decision maker (SDM) and an invitation to take over at 16 — all in one
// transaction Bundle — and issues the 8-digit access key, of which only a
// salted PBKDF2 hash is kept. A second registration of the same document
// is refused (409). The choices, so that later code can rely on them:
//
//   - The master Patient carries meta.tag MPISystem|master; a withdrawn
//     citizen's also MPISystem|withdrawn. Providers' own Patient records
//     carry neither. The resource service lets only the platform's code
//     (the registry writes as it) and the operator write a record with a
//     tag of MPISystem (resource/origin.go): no token creates a "master"
//     Patient or changes one.
//   - The providers' registry's Organization, Practitioner and
//     PractitionerRole, and the SDM's RelatedPerson written at
//     registration, carry resource.RegistryOriginSystem|registry,
//     protected the same way; a PractitionerRole's first code is the
//     professional's profession (Professions), which decides the role's
//     view of a record (resource/views.json).
//   - Names: one HumanName per language, each with the core extension
//     http://hl7.org/fhir/StructureDefinition/language (valueCode "en" or
//     "zh-HK"); a Chinese name keeps its characters in text, family and
//     given. HumanName is a name in one language, so separate names (not
//     the translation extension: a Chinese name is not a translation of
//     the English one) are the idiomatic form.
//   - One identity document per registration, in Patient.identifier as
//     identity.Document.Identifier makes it. A claim per document in the
//     keyed store (namespace ClaimNS, key a SHA-256 of the number; HKID and
//     birth certificate numbers share one claim, as they name one person)
//     makes the refusal of duplicates atomic.
//   - The joining Consent: scope patient-privacy, category
//     ConsentCategorySystem|joining (and LOINC 59284-0), provision permit,
//     performer the citizen or the SDM. Withdrawal sets it inactive (a new
//     version) and tags the master Patient; Participating is the check
//     deposit and sharing code makes (false: refuse both).
//   - The SDM is a RelatedPerson whose relationship carries a code of the
//     ladder (SDMRoleSystem) and whose extension SDMRankExtension holds its
//     rank; a minor's SDM has period.end at the 16th birthday (00:00 Hong
//     Kong time), and Authority says whether an SDM may act at a moment.
//   - The invitation to take over is a CommunicationRequest (in the patient
//     compartment, unlike Task in R4) for the citizen, occurrence the 16th
//     birthday, which the notification outbox sends when it comes.
//
// The MPI: $match (PDQm) scores master Patients against a Patient (identity
// document: certain; name, birth date and sex: probable) and answers with
// only id, name, birth date and sex. $link links a provider's own Patient
// to its master (link type "refer" from the local record, "seealso" back).
// The operator's $merge re-points the source's compartment to the target in
// one transaction and records a Provenance from which $unmerge restores it.
//
// Linked records and the compartment key: the resource service files a
// deposit naming a provider's own Patient under the compartment that
// record defers to — its master through a "refer" link, a merge target
// through "replaced-by" (resource/compartment.go) — and writing the link
// moves what was filed under the local record (store RekeyCompartment), so
// after $link the citizen's record holds every provider's deposits under
// the master's key. Compartments lists the master and its linked records.
//
// Every operation is POST only, so identity numbers never travel in URLs,
// and logs show documents redacted (identity.Document's LogValue).
package registry

// Package deposit takes records from providers' clinical systems into
// the citizens' records: a transaction or batch Bundle posted by a
// provider's system client (a token with an organisation and no
// fhirUser) is matched, checked, made idempotent and written through the
// resource service under the client's own grants, access predicate and
// audit.
//
// What a deposit Bundle holds, and what the deposit does with it:
//
//   - Patient entries: the provider's own record of the patient. Each
//     carries an identity document (HKID, birth certificate, Certificate
//     of Exemption or passport: package identity) and the provider's
//     record number, an identifier whose system is under the provider's
//     namespace (Namespace). The citizen is found in the master patient
//     index as $link finds them (the document, the birth date and a name
//     must agree) and must take part in eHealth (an active joining
//     Consent); the record is then stored as the provider's local Patient,
//     keyed on the record number (depositing again reuses it), with a link
//     of type "refer" to the citizen's master record, so every record
//     about it lands in the citizen's compartment. No such citizen, or one
//     who withdrew: the Patient entry is refused with the reason.
//   - Record entries (any type of the patient compartment with an
//     identifier element): each carries its source-system identifier, an
//     Identifier whose system is Namespace(org) + the name of the source
//     system and whose value is the record's id there. The record is keyed
//     on it: a POST, or a PUT Type?identifier=system|value, updates the
//     record deposited before with that identifier and creates it
//     otherwise, so the same Bundle twice stores nothing new and writes no
//     version (an unchanged update, as the resource service answers it).
//     An identifier under another provider's namespace is refused (403 at
//     that identifier); so is a change, by id or by condition, of a record
//     another provider wrote (the deposit finds only the provider's own
//     records: another's answers as unknown, 404). A record names its
//     patient in its compartment elements (subject, patient …), and one
//     deposit carries a record once. PATCH, GET and other searches are not
//     part of a deposit.
//   - Binary entries (IHE MHD style): a document's content, deposited with
//     the DocumentReference whose content.attachment.url names the Binary
//     entry's fullUrl, and with a securityContext (the DocumentReference
//     or the Patient), whose compartment it takes. A Binary has no
//     identifier: it is the one its DocumentReference named when that was
//     deposited before (updated in place), a new one otherwise.
//   - Provenance entries give reasons, and are not stored as they are: one
//     with activity UPDATE (http://terminology.hl7.org/CodeSystem/v3-DataOperation)
//     gives the reason of an amendment of the entries it targets (by
//     fullUrl), one with activity DELETE the reason of a withdrawal. An
//     amendment is a re-deposit that changes a record: it makes a new
//     version, and the deposit records, in the same transaction, a
//     Provenance whose target is the new version (Type/id/_history/n) and
//     the citizen's master Patient, whose agent is the provider, with the
//     reason given or "amended by the source system". A withdrawal is a
//     DELETE entry (Type?identifier=system|value, or Type/id) and needs its
//     reason (400 at the entry without one): the record is deleted, its
//     history and the audit journal keep it, and a Provenance records the
//     reason against the delete's version. The recorded Provenances carry
//     the record's security labels, so a restricted record's amendment is
//     as restricted as the record; they are tagged
//     provenance-origin|deposit, and the deposit grants itself the create
//     on Provenance they need (the provider's client need not hold it).
//
// Every stored entry is checked against the eHealth+ profiles (Checker):
// errors refuse the entry with the element's path and the profile rule,
// warnings and information come back in the entry's response outcome;
// meta.profile is set to the profile checked.
//
// A transaction is all or nothing: any refused entry refuses the whole
// Bundle with one OperationOutcome listing every entry's issues, paths
// prefixed Bundle.entry[i], and nothing is stored. A batch answers each
// entry on its own: a refused Patient fails the entries that refer to it,
// and each entry is written (with its Provenance) in a transaction of its
// own. Responses are the transaction-response or batch-response Bundle of
// the resource service, entry for entry, in its return=minimal form
// (status, location, etag, lastModified), with an outcome where there is
// something to say: the profile's warnings, the Provenance of an
// amendment. A reason Provenance's entry answers with the Provenance
// recorded for it.
//
// Concurrency: changes of existing records are sent with If-Match at the
// version read, so a concurrent change makes the deposit fail and be
// retried whole; two deposits creating the same new record at the same
// instant may both create it (as two conditional creates may).
package deposit

// Package citizen is the citizen's app at /app, the platform's front
// door: home (allergies first, upcoming appointments, recent results),
// the record by the 11 sharable types with timelines and detail pages,
// lab and vital-sign trends (server-rendered SVG with the numbers as a
// table), sharing consents (give with validity, revoke with a
// confirmation), the access history in plain words with "report this
// access", family (switching to a child one acts for, the age-16
// handover), the notifications inbox, settings (language, notice
// channels), self-recorded measurements, the personal folder and the
// International Patient Summary download.
//
// Every page reads and writes through the FHIR API as the signed-in
// person (web.FHIR), in the patient context their sign-in chose.
package citizen

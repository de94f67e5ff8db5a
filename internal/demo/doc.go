// Package demo generates a synthetic Hong Kong population for the demo
// territory, benchmarks and tests (issue 9): citizens registered as the
// registry registers them (master Patient, joining Consent, a parent as the
// substitute decision maker of a child), the providers' registry
// (Organization, Location, Practitioner, PractitionerRole) and years of
// records of the sharable types, as FHIR R4 NDJSON, one file per type.
//
// The output is a pure function of Config: the providers come from one
// random stream of the seed, each citizen from streams of (seed, citizen
// number), so the same seed gives byte-identical files. Citizens are
// generated and written one household block at a time (Block citizens), so
// memory stays flat whatever the population.
//
// Figures, all (assumed) approximations stated for realism, not statistics
// to rely on:
//   - age and sex: the Census and Statistics Department's 2021 Population
//     Census, mid-2021, by five-year group (pyramid.go);
//   - districts: the 18 District Council districts weighted by their 2021
//     census populations; each is served by its Hospital Authority cluster;
//   - chronic disease by age: hypertension, diabetes and hyperlipidaemia
//     near the Department of Health's Population Health Survey 2020-22
//     (records.go);
//   - vaccinations: the Hong Kong Childhood Immunisation Programme and the
//     seasonal influenza and pneumococcal schemes for children and people
//     aged 50 or more and 65 or more.
package demo

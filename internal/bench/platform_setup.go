package bench

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxConsentPatients bounds the patients the doctor's reads cycle
// through, shared and not.
const maxConsentPatients = 50

// maxReads is how many resources the reads by id cycle through.
const maxReads = 1000

// prepare picks the workload's parameters from the data and makes the
// care relationships of the doctor's reads: the clinic's system client
// registers today's visit of each shared patient (a sharing consent
// alone does not open the record; the demo's visits are months old).
func prepare(ctx context.Context, cfg PlatformConfig, rep *PlatformReport, logf func(string, ...any)) (Workload, error) {
	w := Workload{Base: cfg.Base, Operator: cfg.Operator, Depositor: cfg.Depositor, DepositOrg: cfg.DepositOrg,
		Doctor: cfg.Doctor, Clients: cfg.Conc}
	p, err := pick(ctx, cfg.DB, cfg.Writer)
	if err != nil {
		return w, err
	}
	w.ObsCode, w.CondCode, w.Patients = p.ObsCode, p.CondCode, p.Patients
	s := &rep.Setup
	s.Clinic, s.ObsCode, s.CondCode, s.CondCodeCount, s.Patients = cfg.Clinic, p.ObsCode, p.CondCode, p.CondCodeCount, len(p.Patients)
	if w.Citizens, err = column(ctx, cfg.DB, "SELECT id FROM resource_current WHERE type = 'Patient' AND NOT deleted"+byWriter("", cfg.Writer)+" ORDER BY rid LIMIT 1000"); err != nil {
		return w, err
	}
	if w.Reads, err = spread(ctx, cfg.DB, cfg.Writer, maxReads); err != nil {
		return w, err
	}
	s.Reads = len(w.Reads)
	shared, hidden, err := consentPatients(ctx, cfg.DB, cfg.Writer, cfg.Clinic, time.Now())
	if err != nil {
		return w, err
	}
	if len(shared) == 0 || len(hidden) == 0 {
		return w, fmt.Errorf("bench: %s holds a sharing consent of %d patients and none of %d: the territory is too small", cfg.Clinic, len(shared), len(hidden))
	}
	s.SharedPatients, s.HiddenPatients = len(shared), len(hidden)
	if w.Shared, err = records(ctx, cfg.DB, shared); err != nil {
		return w, err
	}
	if w.Hidden, err = records(ctx, cfg.DB, hidden); err != nil {
		return w, err
	}
	start := time.Now()
	care, err := CareBundle(shared, cfg.Clinic, start)
	if err != nil {
		return w, err
	}
	d := newDriver(w)
	if err := d.send(ctx, http.MethodPost, cfg.Base, cfg.ClinicSystem, care, http.StatusOK); err != nil {
		return w, fmt.Errorf("bench: the clinic's visits: %w", err)
	}
	s.CareSeconds = time.Since(start).Seconds()
	logf("setup: %d shared and %d hidden patients at %s, %d reads, %d queried patients (%s), %d deposit targets",
		len(w.Shared), len(w.Hidden), cfg.Clinic, len(w.Reads), len(w.Patients), w.ObsCode, len(w.Citizens))
	// The expected answers, once each, before anything is timed.
	for _, op := range []string{OpRead, OpSearch, OpCount, OpEverything, OpConsentShared, OpConsentHidden, OpDeposit} {
		if _, err := d.do(ctx, op, 0); err != nil {
			return w, fmt.Errorf("bench: %s: %w", op, err)
		}
	}
	return w, nil
}

// consentPatients are up to maxConsentPatients patients holding a sharing
// consent to clinic valid at now, and as many holding none (ever). The
// grants are the consent decision's (consent package: grantee
// "sharing/Organization/ID", microsecond bounds, 0 for open-ended).
func consentPatients(ctx context.Context, db *sql.DB, writer, clinic string, now time.Time) (shared, hidden []string, err error) {
	us := now.UnixMicro()
	shared, err = column(ctx, db, fmt.Sprintf(`SELECT DISTINCT patient_key FROM access_grant
		WHERE grantee = %s AND valid_from_us <= %d AND (valid_to_us = 0 OR valid_to_us > %d)
		ORDER BY patient_key LIMIT %d`, quote("sharing/"+clinic), us, us, maxConsentPatients))
	if err != nil {
		return nil, nil, err
	}
	hidden, err = column(ctx, db, fmt.Sprintf(`SELECT id FROM resource_current c
		WHERE c.type = 'Patient' AND NOT c.deleted%s
		AND NOT EXISTS (SELECT 1 FROM access_grant g WHERE g.grantee = %s AND g.patient_key = c.id)
		ORDER BY c.rid LIMIT %d`, byWriter("c", writer), quote("sharing/"+clinic), maxConsentPatients))
	return shared, hidden, err
}

// records picks one clinical record ("Type/id") of each patient: its
// first Observation, Condition, Encounter or Immunization that is not
// restricted (its patient key is the patient's own).
func records(ctx context.Context, db *sql.DB, patients []string) ([]string, error) {
	var out []string
	for _, p := range patients {
		refs, err := column(ctx, db, fmt.Sprintf(`SELECT type || '/' || id FROM resource_current
			WHERE patient_key = %s AND type IN ('Observation', 'Condition', 'Encounter', 'Immunization') AND NOT deleted
			ORDER BY rid LIMIT 1`, quote(p)))
		if err != nil {
			return nil, err
		}
		out = append(out, refs...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: none of %d patients has a clinical record", len(patients))
	}
	return out, nil
}

// spread picks up to n current resources ("Type/id") that writer wrote
// ("": any) spread over the database: every k-th by rid.
func spread(ctx context.Context, db *sql.DB, writer string, n int) ([]string, error) {
	var total int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM resource_current WHERE NOT deleted"+byWriter("", writer)).Scan(&total); err != nil {
		return nil, fmt.Errorf("bench: count resources: %w", err)
	}
	k := max(total/int64(n), 1)
	return column(ctx, db, fmt.Sprintf(`SELECT type || '/' || id FROM resource_current
		WHERE rid %% %d = 0 AND NOT deleted%s ORDER BY rid LIMIT %d`, k, byWriter("", writer), n))
}

// typeID is "Type/id" of a location (relative or absolute, with or
// without its _history part), or "".
func typeID(location string) string {
	if i := strings.Index(location, "/_history/"); i >= 0 {
		location = location[:i]
	}
	parts := strings.Split(strings.TrimRight(location, "/"), "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[len(parts)-2] + "/" + parts[len(parts)-1]
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// ClinicDoctor picks the doctor whose reads the workload checks: at the
// provider holding the most patients' sharing consents valid at now, its
// first PractitionerRole of a medical practitioner. It returns the
// Organization id and the PractitionerRole id.
func ClinicDoctor(ctx context.Context, db *sql.DB, now time.Time) (clinic, role string, err error) {
	us := now.UnixMicro()
	const prefix = "sharing/Organization/"
	orgs, err := column(ctx, db, fmt.Sprintf(`SELECT grantee FROM access_grant
		WHERE grantee LIKE %s AND valid_from_us <= %d AND (valid_to_us = 0 OR valid_to_us > %d)
		GROUP BY grantee ORDER BY count(DISTINCT patient_key) DESC, grantee LIMIT 20`, quote(prefix+"%"), us, us))
	if err != nil {
		return "", "", err
	}
	for _, g := range orgs {
		org := strings.TrimPrefix(g, prefix)
		roles, err := column(ctx, db, fmt.Sprintf(`SELECT r.id FROM resource_current r
			JOIN idx_reference o ON o.rid = r.rid AND o.param = 'organization' AND o.target_type = 'Organization'
			JOIN idx_token t ON t.rid = r.rid AND t.param = 'role' AND t.code = 'medical-practitioner'
			WHERE r.type = 'PractitionerRole' AND NOT r.deleted AND o.target_id = %s ORDER BY r.id LIMIT 1`, quote(org)))
		if err != nil {
			return "", "", err
		}
		if len(roles) > 0 {
			return org, roles[0], nil
		}
	}
	return "", "", errors.New("bench: no provider with a doctor holds a sharing consent: the territory is too small")
}

package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints a compact summary of rep.
func WriteTable(w io.Writer, rep Report) error {
	l := rep.Load
	fmt.Fprintf(w, "%s: %d resources, %.1f index rows/resource", rep.Backend, l.ResourcesAfter, l.IndexRowsPerResource)
	if l.Skipped {
		fmt.Fprintf(w, " (load skipped)\n")
	} else {
		fmt.Fprintf(w, "; loaded %d in %d passes at %.0f resources/s\n", l.Written, l.Passes, l.ResourcesPerSec)
	}
	p := rep.Params
	fmt.Fprintf(w, "Observation code %s (%d), Condition code %s (%d), %d patients, %d visible under the predicate\n",
		p.ObsCode, p.ObsCodeCount, p.CondCode, p.CondCodeCount, p.PatientsTotal, len(p.Visible))
	fmt.Fprintf(w, "machine: %d CPUs, load %s → %s; %s\n", rep.Machine.CPUs, rep.Machine.LoadBefore, rep.Machine.LoadAfter, rep.Machine.SharedNote)
	for _, r := range rep.Runs {
		fmt.Fprintf(w, "\n%s — %d clients, %.0f s, %.0f queries/s, process CPU %.1f s (%.0f%% of %d CPUs), machine %.0f%% busy\n",
			r.Name, r.Clients, r.Seconds, r.Total, r.CPUSeconds, 100*r.CPUSeconds/r.Seconds/float64(max(rep.Machine.CPUs, 1)), rep.Machine.CPUs, 100*r.MachineCPU)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "query\tn\terr\t/s\tp50 ms\tp95 ms\tp99 ms\tmatches\tincl\t")
		for _, q := range r.Queries {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.1f\t%.1f\t\n",
				q.Name, q.Count, q.Errors, q.PerSec, q.P50, q.P95, q.P99, q.AvgMatches, q.AvgIncluded)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// WritePlatformTable prints the platform benchmark's figures.
func WritePlatformTable(w io.Writer, rep PlatformReport) error {
	l, db, s := rep.Load, rep.Load.Database, rep.Setup
	fmt.Fprintf(w, "%s: territory of %d citizens (seed %d): %d resources, %.1f index rows/resource, %.0f bytes/resource (%.1f MB)\n",
		rep.Backend, rep.Territory.Citizens, rep.Territory.Seed, db.Resources, db.IndexRowsPerResource, db.BytesPerResource, float64(db.Bytes)/1e6)
	if now := rep.Database; now.Resources != db.Resources {
		fmt.Fprintf(w, "  (now, with earlier runs' deposits and raw copies: %d resources, %.1f index rows/resource, %.0f bytes/resource)\n",
			now.Resources, now.IndexRowsPerResource, now.BytesPerResource)
	}
	when := "now"
	if l.Skipped {
		when = "by an earlier run"
	}
	fmt.Fprintf(w, "load (%s): %d resources in %.1f s = %.0f resources/s\n", when, l.Resources, l.Seconds, l.ResourcesPerSec)
	fmt.Fprintf(w, "territory rows again (%d writer, %d a transaction, turns): through FHIR %.0f resources/s, raw %.0f resources/s (%.1f index rows each): %.2f of the raw ceiling\n",
		l.Raw.Writers, l.Raw.PerTx, l.Through.ResourcesPerSec, l.Raw.ResourcesPerSec, float64(l.Raw.IndexRows)/float64(max(l.Raw.Resources, 1)), l.RatioToRaw)
	fmt.Fprintf(w, "setup: doctor of %s reads %d shared and %d hidden patients; %d reads by id; %d queried patients, code %s; count of %s (%d)\n",
		s.Clinic, s.SharedPatients, s.HiddenPatients, s.Reads, s.Patients, s.ObsCode, s.CondCode, s.CondCodeCount)
	fmt.Fprintf(w, "machine: %d CPUs, load %s → %s; %s; peak RSS server %.0f MB, load generator %.0f MB\n",
		rep.Machine.CPUs, rep.Machine.LoadBefore, rep.Machine.LoadAfter, rep.Machine.SharedNote,
		float64(rep.PeakRSSBytes)/1e6, float64(rep.ClientPeakRSSBytes)/1e6)
	for _, r := range []struct {
		name string
		run  WorkloadRun
	}{{"mix", rep.Mix}, {"deposits alone (turns with their raw ceiling)", rep.Deposits.WorkloadRun}} {
		if err := writeRun(w, r.name, r.run, rep.Machine.CPUs); err != nil {
			return err
		}
	}
	d := rep.Deposits
	fmt.Fprintf(w, "deposits alone: %.0f resources/s; raw ceiling %.0f resources/s (%d writers, %d a transaction): %.2f of it\n",
		d.ResourcesPerSec, d.Raw.ResourcesPerSec, d.Raw.Writers, d.Raw.PerTx, d.RatioToRaw)
	return nil
}

func writeRun(w io.Writer, name string, r WorkloadRun, cpus int) error {
	client := "load generator in process (included)"
	if r.ClientApart {
		client = fmt.Sprintf("load generator %.1f s CPU (%.0f%% of one CPU)", r.ClientCPUSeconds, 100*r.ClientCPUSeconds/r.Seconds)
	}
	fmt.Fprintf(w, "\n%s — %d clients, %.0f s, %.0f requests/s; server process %.1f s CPU (%.0f%% of %d CPUs); %s; machine %.0f%% busy\n",
		name, r.Clients, r.Seconds, r.RequestsPerSec, r.ServerCPUSeconds, 100*r.ServerCPUSeconds/r.Seconds/float64(max(cpus, 1)), cpus, client, 100*r.MachineBusy)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tn\terr\t/s\tp50 ms\tp95 ms\tp99 ms\t")
	for _, o := range r.Ops {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t\n", o.Name, o.Count, o.Errors, o.PerSec, o.P50, o.P95, o.P99)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, o := range r.Ops {
		if o.FirstError != "" {
			fmt.Fprintf(w, "  %s: first error: %s\n", o.Name, o.FirstError)
		}
	}
	return nil
}

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

package hl7v2

import "testing"

// Every escape sequence HL7 v2.5 §2.7 defines is accepted; any other is an
// error at its field, so that text is never silently cut — as when MSH-2
// declares the escape and subcomponent characters the wrong way round and
// an authority "MPI&2.16.840.1&ISO" would read as an escape.
func TestEscapeSequencesDefined(t *testing.T) {
	for _, tc := range []struct {
		raw string
		ok  bool
	}{
		{`\F\\S\\T\\R\\E\`, true}, {`\H\bold\N\`, true}, {`\X0D0A\`, true}, {`\Zlocal\`, true},
		{`\C2842\`, true}, {`\M2442\`, true}, {`\M244228\`, true},
		{`\.br\`, true}, {`\.sp\`, true}, {`\.sp 2\`, true}, {`\.in -4\`, true}, {`\.ti+2\`, true}, {`\.fi\\.nf\\.ce\`, true}, {`\.sk 3\`, true},
		{`\Q\`, false}, {`\X\`, false}, {`\X4\`, false}, {`\C28\`, false}, {`\.xx\`, false}, {`\2.16.840.1\`, false}, {`\FS\`, false},
	} {
		_, err := Parse([]byte("MSH|^~\\&|||||||ORU^R01|1|P|2.5\rNTE|1||" + tc.raw))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok %v", tc.raw, err, tc.ok)
		}
		if err != nil && err.Error()[:12] != "NTE-3 (segme" {
			t.Errorf("%s: error %q is not at NTE-3", tc.raw, err)
		}
	}
	swapped := "MSH|^~&\\|||||||ORU^R01|1|P|2.5\rPID|||1^^^MPI&2.16.840.1&ISO\r"
	if _, err := Parse([]byte(swapped)); err == nil || err.Error()[:5] != "PID-3" {
		t.Errorf("MSH-2 with escape and subcomponent swapped: %v", err)
	}
}

package cli

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/alerting"
)

// TestMonotaskGeneratedRules pins the rules examples/monotask's SLOs and metric rules
// generate, as the plan builds them (through the CLI's loader and the kinds' Build): the
// text rendering with every threshold as a number, and the rule documents as published.
// Regenerate deliberately with go test -run TestMonotaskGeneratedRules -update.
func TestMonotaskGeneratedRules(t *testing.T) {
	l, ok := loadConfig(configFlags{dir: filepath.Join("..", "..", "examples", "monotask")}, IO{Stderr: &testWriter{t}, Getenv: func(string) string { return "" }})
	if !ok {
		t.Fatal("examples/monotask does not load")
	}
	slos, rules, err := alertingDecls(reconciler.KindsWith(nil, l.settings), l.desired)
	if err != nil {
		t.Fatal(err)
	}
	if len(slos) != 6 {
		t.Fatalf("examples/monotask has %d SLOs, want the plan's 6", len(slos))
	}
	var docs []alerting.RuleDoc
	for _, s := range slos {
		d, err := s.Documents()
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d...)
	}
	for _, r := range rules {
		d, err := r.Document()
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	checkGoldenText(t, "monotask_rules.txt", alerting.RenderText(docs))
	js, err := json.MarshalIndent(docs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	checkGoldenText(t, "monotask_rules.json", string(js)+"\n")
}

// testWriter sends diagnostics to the test log.
type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

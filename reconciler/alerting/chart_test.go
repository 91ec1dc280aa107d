package alerting

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestStatusHTMLGolden pins the page of `slo status -format html` for the outage of
// TestSLOStatusMath and an SLO without traffic. Regenerate with -update.
func TestStatusHTMLGolden(t *testing.T) {
	src := &fakeSource{sql: map[string][]event{"monotask_production_api": outage()}}
	e := &Evaluator{Source: src, Now: evalNow}
	var statuses []SLOStatus
	quiet := seedSLOs()[2] // task_latency: no events
	for _, s := range []SLO{ratioSLO(), quiet} {
		st, err := e.SLOStatus(context.Background(), s, true)
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, st)
	}
	var a, b bytes.Buffer
	if err := RenderHTML(&a, statuses); err != nil {
		t.Fatal(err)
	}
	if err := RenderHTML(&b, statuses); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two renderings of the same status differ")
	}
	page := a.String()
	// Self-contained: nothing to fetch, no script.
	for _, bad := range []string{"<script", "<link", "@import", "src=", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	if n := strings.Count(page, "<svg"); n != 2 {
		t.Errorf("%d charts, want one per SLO", n)
	}
	for _, want := range []string{"budget left</th><td class=\"\">76 %", "FIRING", "page 1h 20.0×", "ticket 3d 4.0×", "no data"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if regexp.MustCompile(`https?://(?:www\.)?w3\.org`).ReplaceAllString(page, "") != page && strings.Contains(regexp.MustCompile(`xmlns(:xlink)?="[^"]*"`).ReplaceAllString(page, ""), "http://www.w3.org") {
		t.Errorf("the page references w3.org outside namespace declarations")
	}
	golden(t, "status.html", a.Bytes())
}

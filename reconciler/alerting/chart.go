package alerting

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

var (
	colorSLI    = color.RGBA{R: 0x1f, G: 0x6f, B: 0xb4, A: 0xff}
	colorBudget = color.RGBA{R: 0x2e, G: 0x8b, B: 0x57, A: 0xff}
	colorRef    = color.RGBA{R: 0x77, G: 0x77, B: 0x77, A: 0xff}
	colorPage   = color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
	colorTicket = color.RGBA{R: 0xe0, G: 0x8a, B: 0x00, A: 0xff}
	colorQuiet  = color.RGBA{R: 0xaa, G: 0xaa, B: 0xaa, A: 0xff}
)

// Chart draws an SLO's chart as an SVG document: above, the SLI in each bucket against
// the objective; below, the error budget left from the window's start to each bucket's
// end; on both, a vertical line where each burn-rate rule's long window starts (red: a
// page rule firing, orange: a ticket rule firing, grey: quiet), labelled with its burn
// rate. The same status always gives the same bytes.
func Chart(st SLOStatus) ([]byte, error) {
	c := vgsvg.New(chartWidth, chartHeight)
	if err := drawChart(st, draw.New(c)); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("cannot draw the chart of slo %s: %w", st.SLO.Name, err)
	}
	return buf.Bytes(), nil
}

const chartWidth, chartHeight = 720, 420

// drawChart draws the two panels of an SLO's chart on dc.
func drawChart(st SLOStatus, dc draw.Canvas) error {
	sli, err := sliPlot(st)
	if err != nil {
		return err
	}
	budget, err := budgetPlot(st)
	if err != nil {
		return err
	}
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: 4, PadBottom: 4, PadLeft: 4, PadRight: 12, PadY: 14}
	canvases := plot.Align([][]*plot.Plot{{sli}, {budget}}, tiles, dc)
	sli.Draw(canvases[0][0])
	budget.Draw(canvases[1][0])
	return nil
}

func newPlot(st SLOStatus, title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.Y.Label.Text = ylabel
	p.X.Min, p.X.Max = float64(st.Start.Unix()), float64(st.End.Unix())
	p.X.Tick.Marker = timeTicks{window: st.End.Sub(st.Start)}
	p.Add(plotter.NewGrid())
	return p
}

func sliPlot(st SLOStatus) (*plot.Plot, error) {
	p := newPlot(st, fmt.Sprintf("SLI per %s (objective %s %%)", formatDuration(seriesStep(st.SLO.Window)), formatNumber(st.SLO.Objective)), "% good")
	// Buckets without data break the line: a run of buckets with data is one line, and
	// every bucket with data is a dot, so that a lone bucket shows too.
	var runs []plotter.XYs
	var dots plotter.XYs
	lo := st.SLO.Objective
	open := false
	for _, pt := range st.Series {
		if math.IsNaN(pt.SLI) {
			open = false
			continue
		}
		v := pt.SLI * 100
		xy := plotter.XY{X: float64(pt.Time.Add(pt.End.Sub(pt.Time) / 2).Unix()), Y: v}
		if !open {
			runs = append(runs, nil)
			open = true
		}
		runs[len(runs)-1] = append(runs[len(runs)-1], xy)
		dots = append(dots, xy)
		lo = math.Min(lo, v)
	}
	// Leave room below the lowest point; an SLO of 99.9 % shows 99.8..100 when all is well.
	span := math.Max(100-lo, 100-st.SLO.Objective) * 1.25
	p.Y.Min, p.Y.Max = math.Max(0, 100-span), 100
	if err := addHLine(p, st, st.SLO.Objective, colorRef); err != nil {
		return nil, err
	}
	for _, run := range runs {
		if len(run) < 2 {
			continue
		}
		l, err := plotter.NewLine(run)
		if err != nil {
			return nil, err
		}
		l.LineStyle.Color, l.LineStyle.Width = colorSLI, vg.Points(1.5)
		p.Add(l)
	}
	if len(dots) > 0 {
		sc, err := plotter.NewScatter(dots)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Radius, sc.GlyphStyle.Shape = colorSLI, vg.Points(2), draw.CircleGlyph{}
		p.Add(sc)
	} else {
		p.Title.Text += ": no data"
	}
	return p, addMarkers(p, st, false)
}

func budgetPlot(st SLOStatus) (*plot.Plot, error) {
	p := newPlot(st, fmt.Sprintf("Error budget left: %s", percentText(st.BudgetLeft)), "% of budget")
	var xys plotter.XYs
	lo, hi := 0.0, 100.0
	for _, pt := range st.Series {
		v := pt.BudgetLeft * 100
		xys = append(xys, plotter.XY{X: float64(pt.End.Unix()), Y: v})
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	p.Y.Min, p.Y.Max = lo-(hi-lo)*0.05, hi+(hi-lo)*0.05
	if err := addHLine(p, st, 0, colorRef); err != nil {
		return nil, err
	}
	if len(xys) > 0 {
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.LineStyle.Color, l.LineStyle.Width = colorBudget, vg.Points(1.5)
		p.Add(l)
	}
	return p, addMarkers(p, st, true)
}

func addHLine(p *plot.Plot, st SLOStatus, y float64, c color.Color) error {
	l, err := plotter.NewLine(plotter.XYs{{X: float64(st.Start.Unix()), Y: y}, {X: float64(st.End.Unix()), Y: y}})
	if err != nil {
		return err
	}
	l.LineStyle.Color, l.LineStyle.Dashes = c, []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(l)
	return nil
}

// addMarkers draws a vertical line where each rule's long window starts; with labels,
// its name and burn rate beside it.
func addMarkers(p *plot.Plot, st SLOStatus, labels bool) error {
	var lxys plotter.XYs
	var texts []string
	for i, r := range st.Rules {
		x := float64(st.End.Add(-r.Long).Unix())
		c := colorQuiet
		switch {
		case r.Firing && r.Severity == Page:
			c = colorPage
		case r.Firing:
			c = colorTicket
		}
		l, err := plotter.NewLine(plotter.XYs{{X: x, Y: p.Y.Min}, {X: x, Y: p.Y.Max}})
		if err != nil {
			return err
		}
		l.LineStyle.Color, l.LineStyle.Width = c, vg.Points(1)
		l.LineStyle.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(l)
		// Labels stack downwards so that close windows stay readable.
		y := p.Y.Max - (p.Y.Max-p.Y.Min)*(0.1+0.12*float64(i))
		lxys = append(lxys, plotter.XY{X: x, Y: y})
		texts = append(texts, fmt.Sprintf("%s %s %s", r.Severity, formatDuration(r.Long), burnText(r.LongBurn)))
	}
	if !labels || len(lxys) == 0 {
		return nil
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: lxys, Labels: texts})
	if err != nil {
		return err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].Font.Size = vg.Points(8)
		lb.TextStyle[i].XAlign = draw.XRight
	}
	lb.Offset = vg.Point{X: -vg.Points(3)}
	p.Add(lb)
	return nil
}

// timeTicks labels a time axis in UTC at whole days (or hours for short windows).
type timeTicks struct{ window time.Duration }

func (t timeTicks) Ticks(lo, hi float64) []plot.Tick {
	steps := []time.Duration{time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 2 * 24 * time.Hour, 5 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if t.window/s <= 8 {
			step = s
			break
		}
	}
	format := "Jan 2"
	if step < 24*time.Hour {
		format = "Jan 2 15:04"
	}
	secs := int64(step / time.Second)
	var ticks []plot.Tick
	for x := int64(lo) - floorMod(int64(lo), secs) + secs; float64(x) <= hi; x += secs {
		ticks = append(ticks, plot.Tick{Value: float64(x), Label: time.Unix(x, 0).UTC().Format(format)})
	}
	return ticks
}

func burnText(b float64) string {
	if math.IsNaN(b) {
		return "no data"
	}
	return fmt.Sprintf("%.1f×", b)
}

func percentText(f float64) string {
	if math.IsNaN(f) {
		return "no data"
	}
	return formatNumber(math.Round(f*100*1000)/1000) + " %"
}

// RenderHTML writes one self-contained page (no script, no link, nothing fetched) with a
// section per SLO: its numbers, its burn rates and rules, and its chart as inline SVG.
func RenderHTML(w io.Writer, statuses []SLOStatus) error {
	type rule struct {
		ID, Severity, Windows, Burns, Factor, State, Class, Runbook string
	}
	type section struct {
		Name, Objective, Window, SLIText, SLI, Budget, BudgetClass, Events string
		Rules                                                              []rule
		Chart                                                              template.HTML
	}
	var sections []section
	var generated time.Time
	for _, st := range statuses {
		svg, err := Chart(st)
		if err != nil {
			return err
		}
		// Inline SVG needs no XML prolog.
		if i := bytes.Index(svg, []byte("<svg")); i > 0 {
			svg = svg[i:]
		}
		s := section{
			Name: st.SLO.Name, Objective: formatNumber(st.SLO.Objective) + " %", Window: formatDuration(st.SLO.Window),
			SLIText: st.SLO.SLI.describe(), SLI: percentText(st.SLI), Budget: percentText(st.BudgetLeft),
			Events: fmt.Sprintf("%s good of %s", formatNumber(st.Counts.Good), formatNumber(st.Counts.Total)),
			// The SVG is ours, drawn from numbers; every string in it is escaped by vgsvg.
			Chart: template.HTML(svg),
		}
		switch {
		case st.BudgetLeft < 0:
			s.BudgetClass = "bad"
		case st.BudgetLeft < 0.25:
			s.BudgetClass = "warn"
		}
		for _, r := range st.Rules {
			state, class := "quiet", ""
			switch {
			case r.Firing:
				state, class = "FIRING", "bad"
			case r.NoData:
				state = "no data"
			}
			s.Rules = append(s.Rules, rule{
				ID: r.ID, Severity: string(r.Severity), Windows: formatDuration(r.Long) + " / " + formatDuration(r.Short),
				Burns: burnText(r.LongBurn) + " / " + burnText(r.ShortBurn), Factor: formatNumber(r.Factor) + "×",
				State: state, Class: class, Runbook: r.Runbook,
			})
		}
		sections = append(sections, s)
		generated = st.End
	}
	return htmlPage.Execute(w, map[string]any{"Sections": sections, "Generated": generated.UTC().Format(time.RFC3339)})
}

var htmlPage = template.Must(template.New("slo").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>SLO status</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
section { margin-bottom: 3em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.75em; text-align: left; }
.bad { color: #c62828; font-weight: bold; }
.warn { color: #e08a00; font-weight: bold; }
svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>SLO status</h1>
<p>At {{.Generated}}. Budget left is 100 % with no traffic and negative when overspent. A rule fires when the burn rate over both its long and short window exceeds its factor.</p>
{{range .Sections}}<section>
<h2>slo.{{.Name}}</h2>
<p>{{.SLIText}}</p>
<table>
<tr><th>objective</th><td>{{.Objective}} over {{.Window}}</td></tr>
<tr><th>SLI</th><td>{{.SLI}} ({{.Events}})</td></tr>
<tr><th>budget left</th><td class="{{.BudgetClass}}">{{.Budget}}</td></tr>
</table>
<table>
<tr><th>rule</th><th>severity</th><th>windows</th><th>burn rates</th><th>fires above</th><th>state</th><th>runbook</th></tr>
{{range .Rules}}<tr><td>{{.ID}}</td><td>{{.Severity}}</td><td>{{.Windows}}</td><td>{{.Burns}}</td><td>{{.Factor}}</td><td class="{{.Class}}">{{.State}}</td><td>{{if .Runbook}}<a href="{{.Runbook}}">{{.Runbook}}</a>{{end}}</td></tr>
{{end}}</table>
{{.Chart}}
</section>
{{end}}</body>
</html>
`))

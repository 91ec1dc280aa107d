package backup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// WriteText prints a drill report for a person.
func (r *DrillReport) WriteText(w io.Writer) error {
	verdict := "PASSED"
	if !r.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "Drill %s of backup %q (%s): %s\n", r.ID, r.Job, r.Source, verdict)
	if r.BackupID != "" {
		fmt.Fprintf(w, "  backup:   %s/%s\n", r.BackupTier, r.BackupID)
	}
	fmt.Fprintf(w, "  scratch:  %s\n", r.Scratch)
	fmt.Fprintf(w, "  restore:  %s (RTO %s)\n", dur(r.RestoreSeconds), dur(r.RTOSeconds))
	fmt.Fprintf(w, "  age:      %s (RPO %s)\n", dur(r.BackupAgeSeconds), dur(r.RPOSeconds))
	for _, c := range r.Contents {
		mark := "identical"
		if !c.Identical {
			mark = "DIFFERENT"
		}
		fmt.Fprintf(w, "  %-24s %d of %d %s\n", c.Name+":", c.Got, c.Want, mark)
	}
	for _, c := range r.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  [%s] %-8s %s\n", mark, c.Name, c.Detail)
	}
	return nil
}

// WriteJSON prints the report as stored.
func (r *DrillReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteHTML writes a self-contained page: the report, and a chart of restore time against
// the RTO and backup age against the RPO over the drill history (inline SVG drawn with
// gonum/plot; nothing is fetched). The output depends only on its inputs.
func (r *DrillReport) WriteHTML(w io.Writer, history []DrillReport) error {
	svg, err := historyChart(history)
	if err != nil {
		return err
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		return err
	}
	rows := make([]map[string]any, 0, len(history))
	for i := len(history) - 1; i >= 0; i-- {
		h := history[i]
		rows = append(rows, map[string]any{
			"ID": h.ID, "Backup": h.BackupID, "Passed": h.Passed,
			"Restore": dur(h.RestoreSeconds), "RTO": dur(h.RTOSeconds), "Age": dur(h.BackupAgeSeconds), "RPO": dur(h.RPOSeconds),
		})
	}
	return htmlPage.Execute(w, map[string]any{
		"R": r, "Text": text.String(), "Chart": template.HTML(svg), "History": rows,
	})
}

var htmlPage = template.Must(template.New("drill").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Backup drill {{.R.ID}}: {{.R.Job}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
pre { background: #f6f6f6; padding: 1em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }
.fail { color: #b00020; font-weight: bold; }
.ok { color: #1b7f3b; }
</style>
</head>
<body>
<h1>Backup drill of {{.R.Job}} ({{.R.Source.Kind}} {{.R.Source.Name}}): {{if .R.Passed}}<span class="ok">passed</span>{{else}}<span class="fail">failed</span>{{end}}</h1>
<pre>{{.Text}}</pre>
<h2>Restore time against RTO, backup age against RPO</h2>
<p>Each drill's restore time as a percentage of the RTO, and the age of the backup it restored as a percentage of the RPO; above 100% misses the target.</p>
{{.Chart}}
<h2>Drill history</h2>
<table>
<tr><th>drill</th><th>backup</th><th>result</th><th>restore</th><th>RTO</th><th>backup age</th><th>RPO</th></tr>
{{range .History}}<tr><td>{{.ID}}</td><td>{{.Backup}}</td><td>{{if .Passed}}<span class="ok">passed</span>{{else}}<span class="fail">failed</span>{{end}}</td><td>{{.Restore}}</td><td>{{.RTO}}</td><td>{{.Age}}</td><td>{{.RPO}}</td></tr>
{{end}}</table>
</body>
</html>
`))

// historyChart draws restore time / RTO and backup age / RPO, in percent, per drill, as
// inline SVG.
func historyChart(history []DrillReport) (string, error) {
	p, err := historyPlot(history)
	if err != nil {
		return "", err
	}
	c := vgsvg.New(7*vg.Inch, 3.5*vg.Inch)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("cannot draw the drill history: %w", err)
	}
	svg := buf.String()
	if i := strings.Index(svg, "<svg"); i > 0 {
		svg = svg[i:] // inline: no XML declaration or doctype
	}
	return svg, nil
}

func historyPlot(history []DrillReport) (*plot.Plot, error) {
	p := plot.New()
	p.X.Label.Text = "drill (UTC)"
	p.Y.Label.Text = "% of target"
	p.Y.Min = 0
	p.Title.Text = "Drills: restore time against the RTO, backup age against the RPO"
	p.Legend.Top = true
	// Inside the frame with a margin: a viewer's substitute for the font may be wider
	// than the one the layout measured.
	p.Legend.XOffs = -vg.Points(12)
	p.Legend.YOffs = -vg.Points(4)
	rto, rpo := plotter.XYs{}, plotter.XYs{}
	maxY := 120.0
	for _, h := range history {
		x := float64(h.At.Unix())
		if h.RTOSeconds > 0 {
			rto = append(rto, plotter.XY{X: x, Y: 100 * h.RestoreSeconds / h.RTOSeconds})
		}
		if h.RPOSeconds > 0 {
			rpo = append(rpo, plotter.XY{X: x, Y: 100 * h.BackupAgeSeconds / h.RPOSeconds})
		}
	}
	for _, s := range []plotter.XYs{rto, rpo} {
		for _, v := range s {
			maxY = max(maxY, v.Y*1.1)
		}
	}
	p.Y.Max = maxY * 1.35 // room above the lines for the legend
	p.X.Tick.Marker = plot.TimeTicks{Format: "2006-01-02", Time: func(t float64) time.Time { return time.Unix(int64(t), 0).UTC() }}
	if len(history) <= 8 { // a tick at each drill
		ticks := make(plot.ConstantTicks, len(history))
		for i, h := range history {
			ticks[i] = plot.Tick{Value: float64(h.At.Unix()), Label: h.At.UTC().Format("2006-01-02")}
		}
		p.X.Tick.Marker = ticks
	}
	if len(history) > 0 {
		first, last := float64(history[0].At.Unix()), float64(history[len(history)-1].At.Unix())
		pad := max((last-first)*0.08, 2*24*3600) // room for the last date's label
		p.X.Min, p.X.Max = first-pad, last+pad
	}
	target := plotter.NewFunction(func(float64) float64 { return 100 })
	target.Color = color.RGBA{R: 0xb0, A: 0xff}
	target.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(plotter.NewGrid(), target)
	p.Legend.Add("target (100%)", target)
	for i, s := range []struct {
		name string
		xy   plotter.XYs
		c    color.Color
	}{
		{"restore time / RTO", rto, color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}},
		{"backup age / RPO", rpo, color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}},
	} {
		if len(s.xy) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			return nil, fmt.Errorf("cannot draw the drill history: %w", err)
		}
		line.Color, points.Color = s.c, s.c
		points.Shape = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}}[i]
		p.Add(line, points)
		p.Legend.Add(s.name, line, points)
	}
	return p, nil
}

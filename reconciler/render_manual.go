package reconciler

import (
	"bytes"
	"fmt"
	"strings"
)

// The renderings of Plan.Manual: what declarations ask of objects another tool deploys,
// which flareops never writes. Text, Markdown and JSON plans and drift reports all show
// them; a drift report counts each as drift.

// manualHeading introduces the steps, naming their tools: "Left to wrangler".
func manualHeading(steps []ManualStep) string {
	var tools []string
	for _, s := range steps {
		tools = append(tools, s.Tool)
	}
	return "Left to " + strings.Join(uniqueLines(tools), " and ")
}

// manualSentence says why flareops does not make the change itself.
func manualSentence(s ManualStep) string {
	return fmt.Sprintf("%s is deployed by %s, so flareops writes nothing to it (its next deploy would undo it), and it lacks what the configuration declares", s.Object, s.Tool)
}

// writeManualText writes the steps: per declaration what its object lacks, then each
// fragment to add, indented under the file it goes in.
func writeManualText(b *bytes.Buffer, steps []ManualStep) {
	fmt.Fprintf(b, "%s (add this to the deploy configuration, then deploy):\n\n", manualHeading(steps))
	for _, s := range steps {
		fmt.Fprintf(b, "  # %s (%s): %s:\n", s.Address, s.Source, manualSentence(s))
		for _, d := range s.Differs {
			b.WriteString("      - " + d + "\n")
		}
		for i, f := range s.Fragments {
			verb := "Add to"
			if i > 0 {
				verb = "or to"
			}
			fmt.Fprintf(b, "\n    %s %s:\n", verb, f.File)
			for _, l := range strings.Split(strings.TrimRight(f.Text, "\n"), "\n") {
				if l == "" {
					b.WriteByte('\n')
					continue
				}
				b.WriteString("      " + l + "\n")
			}
		}
		b.WriteByte('\n')
	}
}

// writeManualMarkdown writes the steps as a section: bullets for what is lacking, each
// fragment in a code block of its language.
func writeManualMarkdown(b *bytes.Buffer, steps []ManualStep) {
	fmt.Fprintf(b, "\n### %s\n\nflareops does not write these: add them to the deploy configuration, then deploy.\n", manualHeading(steps))
	for _, s := range steps {
		fmt.Fprintf(b, "\n- %s (%s): %s:\n", code(s.Address), s.Source, manualSentence(s))
		for _, d := range s.Differs {
			b.WriteString("  - " + d + "\n")
		}
		for i, f := range s.Fragments {
			lang := f.File[strings.LastIndexByte(f.File, '.')+1:]
			verb := "Add to"
			if i > 0 {
				verb = "or to"
			}
			fmt.Fprintf(b, "\n  %s %s:\n\n", verb, code(f.File))
			for _, l := range strings.Split(strings.TrimRight(fenced(lang, f.Text), "\n"), "\n") {
				if l == "" {
					b.WriteByte('\n')
					continue
				}
				b.WriteString("  " + l + "\n")
			}
		}
	}
}

// manualSummary counts the steps for a summary line: "1 declaration needs changes that
// only wrangler can deploy".
func manualSummary(steps []ManualStep) string {
	var tools []string
	for _, s := range steps {
		tools = append(tools, s.Tool)
	}
	who := strings.Join(uniqueLines(tools), " and ")
	if len(steps) == 1 {
		return "1 declaration needs changes that only " + who + " can deploy"
	}
	return fmt.Sprintf("%d declarations need changes that only %s can deploy", len(steps), who)
}

// manualJSON is one step in the plan and drift JSON.
type manualJSON struct {
	Address   string         `json:"address"`
	Source    string         `json:"source"`
	Tool      string         `json:"tool"`
	Object    string         `json:"object"`
	Differs   []string       `json:"differs"`
	Fragments []fragmentJSON `json:"fragments"`
}

type fragmentJSON struct {
	File string `json:"file"`
	Text string `json:"text"`
}

func manualsJSON(steps []ManualStep) []manualJSON {
	out := make([]manualJSON, 0, len(steps))
	for _, s := range steps {
		m := manualJSON{Address: s.Address, Source: s.Source, Tool: s.Tool, Object: s.Object,
			Differs: nonNil(s.Differs), Fragments: make([]fragmentJSON, 0, len(s.Fragments))}
		for _, f := range s.Fragments {
			m.Fragments = append(m.Fragments, fragmentJSON(f))
		}
		out = append(out, m)
	}
	return out
}

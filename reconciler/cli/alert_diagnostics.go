package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/monotask/flareops/reconciler/alerting"
	"github.com/monotask/flareops/reconciler/config"
)

// fieldDiagnostics turns a kind's errors about single attributes (alerting.FieldError,
// from slo and metric alert_rule blocks) into diagnostics at the attribute, and a filter
// error at its place inside the string: file:line:col of the offending token. nil when
// err holds no such error, or one whose attribute the block does not write.
func fieldDiagnostics(cfg *config.Config, b config.Block, err error) hcl.Diagnostics {
	ranges := cfg.AttrRanges(b.Address())
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var diags hcl.Diagnostics
	for _, e := range errs {
		var fe *alerting.FieldError
		if !errors.As(e, &fe) {
			return nil
		}
		rng, ok := ranges[fe.Field]
		if !ok {
			rng, ok = ranges[strings.SplitN(fe.Field, ".", 2)[0]]
		}
		if !ok {
			rng = b.DeclRange
		}
		detail := fe.Err.Error()
		var pe *alerting.FilterError
		if errors.As(fe.Err, &pe) && pe.Pos.Line > 0 {
			// The filter is a quoted string: its first character is one past the quote.
			start := alerting.Pos{Offset: rng.Start.Byte + 1, Line: rng.Start.Line, Column: rng.Start.Column + 1}
			at := pe.Pos.In(start)
			rng = hcl.Range{Filename: rng.Filename, Start: hcl.Pos{Line: at.Line, Column: at.Column, Byte: at.Offset},
				End: hcl.Pos{Line: at.Line, Column: at.Column + 1, Byte: at.Offset + 1}}
			detail = pe.Msg
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid %s in %s %q", fe.Field, b.Kind, b.Name),
			Detail:   sentence(detail),
			Subject:  &rng,
		})
	}
	return diags
}

// sentence ends s with a full stop unless it ends with one or a question mark.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

package config

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical formatting (hclwrite.Format: aligned equals signs,
// two-space indentation). It works on tokens, so it never fails, but on a file with syntax
// errors the result is not meaningful: FormatDir refuses such files. A source beyond the
// loader's limits (MaxFileSize, MaxNesting, MaxChain) is returned as it is: hclwrite takes
// minutes over deeply nested blocks.
func Format(src []byte) []byte {
	if checkLimits(src, "", hcl.InitialPos) != nil {
		return src
	}
	return hclwrite.Format(src)
}

// SyntaxError is returned by FormatDir when a file does not parse; no file is rewritten.
// Render it with WriteDiagnostics(w, e.Files, e.Diags, color).
type SyntaxError struct {
	Files map[string]*hcl.File
	Diags hcl.Diagnostics
}

func (e *SyntaxError) Error() string { return e.Diags.Error() }

// FormatDir formats every *.flareops.hcl file of dir and writes the path of each file that
// was not canonical to w, one per line. With check, files are left as they are (fmt -check:
// the caller exits 1 when changed is not empty); otherwise they are rewritten in place.
// When any file has a syntax error, the error is a *SyntaxError and nothing is written.
func FormatDir(dir string, check bool, w io.Writer) (changed []string, err error) {
	names, err := configFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot list configuration files: %w", err)
	}
	srcs := make([][]byte, len(names))
	syntax := &SyntaxError{Files: map[string]*hcl.File{}}
	for i, name := range names {
		if srcs[i], err = os.ReadFile(name); err != nil {
			return nil, fmt.Errorf("cannot read configuration file: %w", err)
		}
		if d := checkLimits(srcs[i], name, hcl.InitialPos); d != nil {
			syntax.Files[name] = &hcl.File{Bytes: srcs[i]}
			syntax.Diags = append(syntax.Diags, d)
			continue
		}
		f, diags := hclsyntax.ParseConfig(srcs[i], name, hcl.InitialPos)
		if f != nil {
			syntax.Files[name] = f
		}
		syntax.Diags = append(syntax.Diags, diags...)
	}
	if syntax.Diags.HasErrors() {
		return nil, syntax
	}
	for i, name := range names {
		out := Format(srcs[i])
		if bytes.Equal(out, srcs[i]) {
			continue
		}
		changed = append(changed, name)
		if !check {
			info, err := os.Stat(name)
			if err != nil {
				return changed, fmt.Errorf("cannot format %s: %w", name, err)
			}
			if err := os.WriteFile(name, out, info.Mode().Perm()); err != nil {
				return changed, fmt.Errorf("cannot format %s: %w", name, err)
			}
		}
		if _, err := fmt.Fprintln(w, name); err != nil {
			return changed, err
		}
	}
	return changed, nil
}

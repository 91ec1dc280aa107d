package graphql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// validation is the standard rule set but one: Cloudflare accepts a variable declared
// with a built-in type where its own scalar is expected (community queries declare
// `$limit: Int!` for `limit: uint64!` and `$accountTag: String!` for `string`), so the
// "variables in allowed position" rule is not enforced.
var validation = func() *rules.Rules {
	r := rules.NewDefaultRules()
	r.RemoveRule(rules.VariablesInAllowedPositionRule.Name)
	return r
}()

// exec holds one query's evaluation.
type exec struct {
	ev   Events
	now  time.Time
	vars map[string]any
	rows map[*datasetSpec][]row
}

func execute(req request, ev Events, now time.Time) (any, []*qerror) {
	doc, perr := parser.ParseQuery(&ast.Source{Name: "query", Input: req.Query})
	if perr != nil {
		return nil, fromGQL(perr)
	}
	if list := validator.ValidateWithRules(schema, doc, validation); len(list) > 0 {
		return nil, fromGQL(list)
	}
	op := doc.Operations.ForName(req.OperationName)
	if op == nil {
		return nil, []*qerror{{status: http.StatusBadRequest, msg: fmt.Sprintf("error parsing args: no operation named %q", req.OperationName)}}
	}
	vars, err := validator.VariableValues(schema, op, req.Variables)
	if err != nil {
		return nil, []*qerror{{status: http.StatusBadRequest, msg: "error parsing args: " + gqlMessage(err)}}
	}
	op.SelectionSet = prune(op.SelectionSet, vars)
	x := &exec{ev: ev, now: now, vars: vars, rows: map[*datasetSpec][]row{}}
	out := obj{}
	for _, f := range fields(op.SelectionSet) {
		switch f.Name {
		case "__typename":
			out = append(out, kv{f.Alias, "Query"})
		case "viewer":
			v, qe := x.viewer(f)
			if qe != nil {
				return nil, []*qerror{qe}
			}
			out = append(out, kv{f.Alias, v})
		}
	}
	return out, nil
}

// prune drops what @skip(if: true) and @include(if: false) leave out, in place through
// fragments (a fragment's definition is pruned once per use, with the same outcome).
func prune(set ast.SelectionSet, vars map[string]any) ast.SelectionSet {
	kept := set[:0:0]
	for _, sel := range set {
		var dirs ast.DirectiveList
		switch s := sel.(type) {
		case *ast.Field:
			dirs = s.Directives
			s.SelectionSet = prune(s.SelectionSet, vars)
		case *ast.InlineFragment:
			dirs = s.Directives
			s.SelectionSet = prune(s.SelectionSet, vars)
		case *ast.FragmentSpread:
			dirs = s.Directives
			if s.Definition != nil {
				s.Definition.SelectionSet = prune(s.Definition.SelectionSet, vars)
			}
		}
		if included(dirs, vars) {
			kept = append(kept, sel)
		}
	}
	return kept
}

func included(dirs ast.DirectiveList, vars map[string]any) bool {
	if d := dirs.ForName("skip"); d != nil {
		if v, _ := d.ArgumentMap(vars)["if"].(bool); v {
			return false
		}
	}
	if d := dirs.ForName("include"); d != nil {
		if v, _ := d.ArgumentMap(vars)["if"].(bool); !v {
			return false
		}
	}
	return true
}

// fields flattens fragments (validation has checked they apply).
func fields(set ast.SelectionSet) []*ast.Field {
	var out []*ast.Field
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			out = append(out, s)
		case *ast.InlineFragment:
			out = append(out, fields(s.SelectionSet)...)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				out = append(out, fields(s.Definition.SelectionSet)...)
			}
		}
	}
	return out
}

func (x *exec) viewer(f *ast.Field) (obj, *qerror) {
	out := obj{}
	for _, sub := range fields(f.SelectionSet) {
		switch sub.Name {
		case "__typename":
			out = append(out, kv{sub.Alias, "viewer"})
		case "accounts":
			accts, qe := x.accounts(sub, []any{f.Alias, sub.Alias})
			if qe != nil {
				return nil, qe
			}
			out = append(out, kv{sub.Alias, accts})
		}
	}
	return out, nil
}

var accountTagRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (x *exec) accounts(f *ast.Field, path []any) ([]obj, *qerror) {
	args := f.ArgumentMap(x.vars)
	filter, _ := args["filter"].(map[string]any)
	tag, _ := filter["accountTag"].(string)
	switch {
	case tag == "":
		// One account per query (analytics.md §1.1); an account filter without a tag
		// would be every account of the token.
		return nil, &qerror{status: http.StatusBadRequest, path: path, msg: "error parsing args: accounts filter must name exactly one accountTag"}
	case !accountTagRe.MatchString(tag):
		return nil, &qerror{status: http.StatusForbidden, path: path, msg: "not authorized for that account"}
	}
	acct := obj{}
	apath := append(path, "0")
	for _, sub := range fields(f.SelectionSet) {
		p := append(append([]any{}, apath...), sub.Alias)
		switch {
		case sub.Name == "__typename":
			acct = append(acct, kv{sub.Alias, "account"})
		case sub.Name == "settings":
			acct = append(acct, kv{sub.Alias, settings(sub)})
		default:
			d := datasetByNode(sub.Name)
			if d == nil {
				return nil, &qerror{status: http.StatusBadRequest, path: p, msg: fmt.Sprintf("unknown field %q", sub.Name)}
			}
			groups, qe := x.dataset(d, sub, p)
			if qe != nil {
				return nil, qe
			}
			acct = append(acct, kv{sub.Alias, groups})
		}
	}
	return []obj{acct}, nil
}

func settings(f *ast.Field) obj {
	out := obj{}
	for _, sub := range fields(f.SelectionSet) {
		if sub.Name == "__typename" {
			out = append(out, kv{sub.Alias, "AccountSettings"})
			continue
		}
		d := datasetByNode(sub.Name)
		s := obj{}
		for _, leaf := range fields(sub.SelectionSet) {
			var v any
			switch leaf.Name {
			case "__typename":
				v = "Settings"
			case "enabled":
				v = true
			case "availableFields":
				v = d.availableFields()
			case "maxDuration":
				v = d.limits.MaxDuration
			case "maxNumberOfFields":
				v = d.limits.MaxNumberOfFields
			case "maxPageSize":
				v = d.limits.MaxPageSize
			case "notOlderThan":
				v = d.limits.NotOlderThan
			}
			s = append(s, kv{leaf.Alias, v})
		}
		out = append(out, kv{sub.Alias, s})
	}
	return out
}

func (d *datasetSpec) availableFields() []string {
	var out []string
	for _, dm := range d.dims {
		out = append(out, "dimensions."+dm.name)
	}
	if d.count {
		out = append(out, "count")
	}
	for _, b := range d.blocks {
		for _, m := range b.metrics {
			out = append(out, b.name+"."+m.name)
		}
	}
	return out
}

// fromGQL turns parser and validation errors into 400s. An unknown field is reported
// as Cloudflare words it ("unknown field …", analytics.md §1.1); the rest keep the
// parser's text.
func fromGQL(err error) []*qerror {
	var list gqlerror.List
	var one *gqlerror.Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = gqlerror.List{one}
	default:
		return []*qerror{{status: http.StatusBadRequest, msg: err.Error()}}
	}
	out := make([]*qerror, len(list))
	for i, e := range list {
		q := &qerror{status: http.StatusBadRequest, msg: rewordUnknown(e.Message)}
		for _, l := range e.Locations {
			q.locations = append(q.locations, location{Line: l.Line, Column: l.Column})
		}
		out[i] = q
	}
	return out
}

var (
	cannotQueryRe = regexp.MustCompile(`^Cannot query field "([^"]+)" on type "([^"]+)"\.`)
	notDefinedRe  = regexp.MustCompile(`^Field "([^"]+)" is not defined by type "([^"]+)"\.`)
)

func rewordUnknown(msg string) string {
	if m := cannotQueryRe.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("unknown field %q on type %q.", m[1], m[2]) + msg[len(m[0]):]
	}
	if m := notDefinedRe.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("unknown field %q on input %q.", m[1], m[2]) + msg[len(m[0]):]
	}
	return msg
}

func gqlMessage(err error) string {
	var one *gqlerror.Error
	if errors.As(err, &one) {
		if len(one.Path) > 0 {
			return one.Path.String() + ": " + one.Message
		}
		return one.Message
	}
	return err.Error()
}

// obj is a JSON object that keeps the order of the selection, as GraphQL answers do.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(e.k)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", e.k, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// String renders a value for messages.
func short(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(b))
}

package backup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// errNotEmpty stops the emptiness probes at the first item.
var errNotEmpty = errors.New("not empty")

// target is where a restore goes.
type target struct {
	id, name string
	desc     string // "D1 database monotask-tasks"
	empty    bool
	what     string       // what makes it non-empty, for the refusal
	dropSQL  string       // D1: statements that empty it first (-force)
	create   func() error // nil when it exists
}

func (e *Env) openTarget(ctx context.Context, kind SourceKind, name string) (*target, error) {
	t := &target{name: name, empty: true}
	switch kind {
	case SourceD1:
		t.desc = "D1 database " + name
		db, err := e.API.FindD1Database(ctx, name)
		if cloudflare.IsNotFound(err) {
			t.create = func() error {
				db, err := e.API.CreateD1Database(ctx, name)
				t.id = db.UUID
				return err
			}
			return t, nil
		}
		if err != nil {
			return nil, err
		}
		t.id = db.UUID
		tables, err := e.API.D1Tables(ctx, db.UUID)
		if err != nil {
			return nil, err
		}
		views, err := e.API.D1Views(ctx, db.UUID)
		if err != nil {
			return nil, err
		}
		if len(tables)+len(views) > 0 {
			t.empty = false
			t.what = fmt.Sprintf("tables %s", strings.Join(tables, ", "))
			var b strings.Builder
			b.WriteString("PRAGMA defer_foreign_keys=TRUE;\n")
			for _, v := range views {
				fmt.Fprintf(&b, "DROP VIEW IF EXISTS %s;\n", quoteIdent(v))
			}
			for _, tb := range tables {
				fmt.Fprintf(&b, "DROP TABLE IF EXISTS %s;\n", quoteIdent(tb))
			}
			t.dropSQL = b.String()
		}
	case SourceKV:
		t.desc = "KV namespace " + name
		ns, err := e.API.FindKVNamespace(ctx, name)
		if cloudflare.IsNotFound(err) {
			t.create = func() error {
				ns, err := e.API.CreateKVNamespace(ctx, name)
				t.id = ns.ID
				return err
			}
			return t, nil
		}
		if err != nil {
			return nil, err
		}
		t.id = ns.ID
		err = e.API.EachKVKeyPage(ctx, ns.ID, func(keys []cloudflare.KVKey) error {
			t.empty, t.what = false, fmt.Sprintf("it has keys, e.g. %q", keys[0].Name)
			return errNotEmpty
		})
		if err != nil && !errors.Is(err, errNotEmpty) {
			return nil, err
		}
	case SourceR2:
		t.desc = "R2 bucket " + name
		ok, err := e.R2.BucketExists(ctx, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			t.create = func() error { return e.R2.CreateBucket(ctx, name) }
			return t, nil
		}
		err = e.R2.List(ctx, name, "", func(o cloudflare.R2Object) error {
			t.empty, t.what = false, fmt.Sprintf("it has objects, e.g. %q", o.Key)
			return errNotEmpty
		})
		if err != nil && !errors.Is(err, errNotEmpty) {
			return nil, err
		}
	}
	return t, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

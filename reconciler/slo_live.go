package reconciler

import (
	"context"
	"fmt"
	"strings"

	"github.com/monotask/flareops/reconciler/alerting"
	"github.com/monotask/flareops/reconciler/opsdoc"
)

var _ ScopedObserver = SLOKind{}

// sloPrefix is where an SLO's rule documents live: flareops/rules/slo/<name>/.
func sloPrefix(name string) string { return alerting.RulesPrefix + "slo/" + name + "/" }

// Observe lists every SLO that has rule documents; without the configuration or the
// state, an SLO reads as its name and rules' hashes only.
func (k SLOKind) Observe(ctx context.Context) ([]Object, error) {
	return k.ObserveScoped(ctx, Scope{})
}

// ObserveScoped reads the ops namespace's key list once. An SLO exists when it has at
// least one rule document; each rule reads as the declared (or last applied) rule when
// its document's hash is that rule's, and as its hash alone otherwise, so that an edited
// or stray document shows as a change and a missing one as a rule to publish.
func (k SLOKind) ObserveScoped(ctx context.Context, scope Scope) ([]Object, error) {
	docs, err := k.Docs.Observe(ctx)
	if err != nil {
		return nil, err
	}
	applied, desired := map[string]*SLOSpec{}, map[string]*SLOSpec{}
	for _, en := range scope.Managed {
		if a, ok := decodeApplied(en.Applied, SLOSpec{}); ok {
			s := a.(SLOSpec)
			applied[en.Key] = &s
		}
	}
	for _, o := range scope.Desired {
		if s, ok := o.Spec.(SLOSpec); ok {
			desired[s.Name] = &s
		}
	}
	byName := map[string]map[string]opsdoc.Doc{}
	for key, d := range docs {
		rest, ok := strings.CutPrefix(key, alerting.RulesPrefix+"slo/")
		if !ok {
			continue
		}
		name, id, ok := strings.Cut(rest, "/")
		if !ok || name == "" || id == "" {
			continue
		}
		if byName[name] == nil {
			byName[name] = map[string]opsdoc.Doc{}
		}
		byName[name][id] = d
	}
	var out []Object
	for _, name := range sortedKeys(byName) {
		bases := []*SLOSpec{applied[name], desired[name]}
		live := SLOSpec{Name: name, Rules: map[string]SLORule{}}
		for _, b := range bases {
			if b != nil {
				live.Objective, live.Window, live.SLI = b.Objective, b.Window, b.SLI
				break
			}
		}
		for id, d := range byName[name] {
			h := shortHash(d.Hash)
			if d.Hash == "" {
				h = "(not written by flareops)"
			}
			live.Rules[id] = SLORule{ID: id, Document: h}
			// The rule the hash is the document of; else the last applied (or declared)
			// rule with the document's own hash: an edit shows as a changed document.
			found := false
			for _, b := range bases {
				if r, ok := b.rule(id); ok && r.Document == h {
					live.Rules[id], found = r, true
					break
				}
			}
			for _, b := range bases {
				if r, ok := b.rule(id); ok && !found {
					r.Document = h
					live.Rules[id], found = r, true
				}
			}
		}
		out = append(out, Object{Key: name, ID: name, Spec: live})
	}
	return out, nil
}

// Create publishes the SLO's rule documents.
func (k SLOKind) Create(ctx context.Context, desired Object) (string, error) {
	if err := k.publish(ctx, SLOSpec{}, desired); err != nil {
		return "", err
	}
	return desired.Key, nil
}

// Update publishes the rules whose documents differ and deletes those no longer generated.
func (k SLOKind) Update(ctx context.Context, _ string, live, desired Object) error {
	return k.publish(ctx, live.Spec.(SLOSpec), desired)
}

func (k SLOKind) publish(ctx context.Context, have SLOSpec, desired Object) error {
	want := desired.Spec.(SLOSpec)
	s, ok := desired.Private.(alerting.SLO)
	if !ok {
		return fmt.Errorf("slo %s: built without its model; this is a bug in flareops", want.Name)
	}
	docs, err := s.Documents()
	if err != nil {
		return err
	}
	for _, d := range docs {
		id := strings.TrimPrefix(d.ID, "slo/"+s.Name+"/")
		if have.Rules[id].Document == want.Rules[id].Document {
			continue
		}
		if err := k.Docs.Put(ctx, d.Key(), d); err != nil {
			return err
		}
	}
	for id := range have.Rules {
		if _, keep := want.Rules[id]; !keep {
			if err := k.Docs.Delete(ctx, sloPrefix(want.Name)+id); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete unpublishes every rule document of the SLO; deleting what is gone is success.
func (k SLOKind) Delete(ctx context.Context, _ string, live Object) error {
	s := live.Spec.(SLOSpec)
	for id := range s.Rules {
		if err := k.Docs.Delete(ctx, sloPrefix(s.Name)+id); err != nil {
			return err
		}
	}
	return nil
}

func (s *SLOSpec) rule(id string) (SLORule, bool) {
	if s == nil {
		return SLORule{}, false
	}
	r, ok := s.Rules[id]
	return r, ok
}

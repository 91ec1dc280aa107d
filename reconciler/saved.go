package reconciler

import (
	"fmt"
	"strings"
)

// Recheck compares a saved plan with a fresh plan of the same configuration, made just
// before applying it. The saved plan still holds when every object it changes, and every
// object those changes reference, would be changed exactly as planned: objects created,
// changed or deleted by others elsewhere in the account do not matter. It returns the
// fresh plan restricted to the saved plan's changes (an object the saved plan left alone
// is left alone, even if it drifted since), or an error naming each object that changed
// and how.
func Recheck(saved, fresh *Plan) (*Plan, error) {
	return RecheckMasked(saved, fresh, nil)
}

// RecheckMasked is Recheck for a saved plan whose text had the values of sensitive
// variables masked by mask before it was written: the fresh plan's text is masked alike
// before the two are compared. A nil mask masks nothing.
func RecheckMasked(saved, fresh *Plan, mask func(string) string) (*Plan, error) {
	if mask == nil {
		mask = func(s string) string { return s }
	}
	if !saved.Target.Same(fresh.Target) {
		return nil, fmt.Errorf("the plan was made for %s, not %s", saved.Target.Describe(), fresh.Target.Describe())
	}
	if saved.ConfigHash != fresh.ConfigHash {
		return nil, fmt.Errorf("the configuration (or a variable) changed since the plan was saved: run flareops plan again (pass the same -var and -var-file flags to apply)")
	}
	byAddr := map[string]Change{}
	for _, c := range fresh.Changes {
		byAddr[c.Address] = c
	}
	relevant := map[string]bool{}
	for _, c := range saved.Changes {
		if c.Action == NoOp {
			continue
		}
		relevant[c.Address] = true
		for _, r := range c.References {
			relevant[r] = true
		}
		for _, r := range c.DependsOn {
			relevant[r] = true
		}
	}
	var problems []string
	savedBy := map[string]Change{}
	for _, c := range saved.Changes {
		savedBy[c.Address] = c
		if !relevant[c.Address] {
			continue
		}
		f, ok := byAddr[c.Address]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: planned to %s, but it is no longer part of the plan", c.Address, c.Action))
			continue
		}
		if how := changedSince(c, maskChange(f, mask)); how != "" {
			problems = append(problems, c.Address+": "+how)
		}
	}
	for _, f := range fresh.Changes {
		if _, ok := savedBy[f.Address]; !ok && f.Action != NoOp {
			problems = append(problems, fmt.Sprintf("%s: not in the saved plan, but it would now be %s", f.Address, pastTense(f.Action)))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("objects this plan touches changed since it was saved, so it is not applied:\n  - %s\nRun flareops plan again and review the new plan", strings.Join(problems, "\n  - "))
	}
	out := *fresh
	out.Changes = make([]Change, 0, len(fresh.Changes))
	for _, f := range fresh.Changes {
		if s := savedBy[f.Address]; s.Action == NoOp && f.Action != NoOp {
			// Drifted since, but the saved plan did not touch it: leave it alone.
			f.Action, f.Fields, f.Impact, f.Origin = NoOp, nil, nil, ""
			f.skipRecord = true
		}
		out.Changes = append(out.Changes, f)
	}
	return &out, nil
}

// changedSince says how the fresh change of an object differs from the saved one ("" when
// it does not).
func changedSince(s, f Change) string {
	switch {
	case s.Action != f.Action:
		return fmt.Sprintf("planned to %s, but it would now be %s%s", s.Action, pastTense(f.Action), reasonSuffix(f))
	case s.ID != f.ID:
		return fmt.Sprintf("its live object changed from id %s to id %s", orNone(s.ID), orNone(f.ID))
	case s.LiveKey != f.LiveKey:
		return fmt.Sprintf("it was renamed from %q to %q", s.LiveKey, f.LiveKey)
	}
	sf, ff := map[string]FieldChange{}, map[string]FieldChange{}
	for _, x := range s.Fields {
		sf[x.Path] = x
	}
	for _, x := range f.Fields {
		ff[x.Path] = x
	}
	var diffs []string
	for _, p := range sortedKeys(sf) {
		a, b := sf[p], ff[p]
		if _, ok := ff[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s is already %s (planned %s -> %s)", p, show(a.New, a.NewSet), show(a.Old, a.OldSet), show(a.New, a.NewSet)))
		} else if a.Old != b.Old || a.OldSet != b.OldSet || a.New != b.New || a.NewSet != b.NewSet {
			diffs = append(diffs, fmt.Sprintf("%s was %s when planned, is now %s", p, show(a.Old, a.OldSet), show(b.Old, b.OldSet)))
		}
	}
	for _, p := range sortedKeys(ff) {
		if _, ok := sf[p]; !ok {
			b := ff[p]
			diffs = append(diffs, fmt.Sprintf("%s changed since: now %s, planned to stay %s", p, show(b.Old, b.OldSet), show(b.New, b.NewSet)))
		}
	}
	return strings.Join(diffs, "; ")
}

func show(v string, set bool) string {
	if !set {
		return "(unset)"
	}
	return v
}

func orNone(id string) string {
	if id == "" {
		return "(none)"
	}
	return id
}

func reasonSuffix(c Change) string {
	if c.Reason == "" {
		return ""
	}
	return " (" + c.Reason + ")"
}

func pastTense(a Action) string {
	switch a {
	case NoOp:
		return "left unchanged"
	case Create:
		return "created"
	case Update:
		return "updated"
	case Replace:
		return "replaced"
	case Delete:
		return "deleted"
	case Adopt:
		return "adopted"
	case Forget:
		return "forgotten"
	}
	return string(a)
}

// maskChange is c with mask applied to the texts changedSince compares.
func maskChange(c Change, mask func(string) string) Change {
	c.ID, c.LiveKey = mask(c.ID), mask(c.LiveKey)
	fields := make([]FieldChange, len(c.Fields))
	for i, f := range c.Fields {
		f.Old, f.New = mask(f.Old), mask(f.New)
		fields[i] = f
	}
	c.Fields = fields
	return c
}

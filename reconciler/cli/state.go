package cli

import (
	"encoding/json"
	"fmt"

	"github.com/monotask/flareops/reconciler"
)

func runImport(args []string, io IO) int {
	fs := newFlags("import", io)
	var cf configFlags
	cf.register(fs)
	if !parse(fs, args) {
		return ExitError
	}
	if fs.NArg() != 2 {
		return errorf(io, "usage: flareops import [-dir DIR] ADDRESS ID|NAME, e.g. flareops import queue.agent_jobs monotask-staging-agent-jobs")
	}
	addr, id := fs.Arg(0), fs.Arg(1)
	a, err := reconciler.ParseAddress(addr)
	if err != nil {
		return errorf(io, "%v", err)
	}
	s, ok := openSession(cf, io, true)
	if !ok {
		return ExitError
	}
	defer s.close()
	var desired *reconciler.Desired
	for i := range s.cfg.desired {
		if s.cfg.desired[i].Addr == a {
			desired = &s.cfg.desired[i]
		}
	}
	if desired == nil {
		return errorf(io, "%s is not declared in %s: add the block first, then import the object into it", addr, cf.dir)
	}
	k, _ := s.engine.Registry.Kind(a.Kind)
	ctx, cancel := interruptible()
	defer cancel()
	// The object to import is looked up as if already managed under id: a kind that lives
	// inside Workers (ScopedObserver) reads only the Worker it names.
	scope := reconciler.Scope{Managed: []reconciler.StateEntry{{Kind: a.Kind, Key: id, ID: id}}}
	if built, err := k.Build(desired.Values); err == nil {
		scope.Desired = []reconciler.Object{built}
	}
	objs, err := reconciler.ObserveFor(ctx, k, scope)
	if err != nil {
		return errorf(io, "cannot list %s objects: %v", a.Kind, err)
	}
	obj, found := findLive(objs, id)
	if !found {
		return errorf(io, "no %s with id or name %q in %s", a.Kind, id, s.tgt.desc)
	}
	if e, ok := s.engine.State.Get(addr); ok && e.ID != "" && e.ID != obj.ID {
		// Replacing the entry is allowed only when what it managed is gone.
		if _, alive := findLive(objs, e.ID); alive {
			return errorf(io, "%s already manages %s %q (id %s), which still exists: run `%s` first to import another object", addr, a.Kind, e.Key, e.ID, s.command("state", "rm", addr))
		}
	}
	for _, other := range s.engine.State.Addresses() {
		if e, _ := s.engine.State.Get(other); e.ID == obj.ID && e.Kind == a.Kind && other != addr {
			return errorf(io, "%s %q (id %s) is already managed as %s", a.Kind, obj.Key, obj.ID, other)
		}
	}
	deps := make([]string, 0, len(desired.Deps))
	for _, d := range desired.Deps {
		deps = append(deps, d.String())
	}
	if err := s.engine.State.Put(addr, reconciler.StateEntry{Kind: a.Kind, ID: obj.ID, Key: obj.Key, Deps: deps, PreventDestroy: desired.PreventDestroy}); err != nil {
		return errorf(io, "%v", err)
	}
	fmt.Fprintf(io.Stdout, "Imported %s %q (id %s) as %s. Run flareops plan to see how it differs from the configuration.\n", a.Kind, obj.Key, obj.ID, addr)
	return ExitOK
}

// findLive finds an object by id, else by name (key).
func findLive(objs []reconciler.Object, idOrName string) (reconciler.Object, bool) {
	for _, o := range objs {
		if o.ID == idOrName {
			return o, true
		}
	}
	for _, o := range objs {
		if o.Key == idOrName {
			return o, true
		}
	}
	return reconciler.Object{}, false
}

func runState(args []string, io IO) int {
	if len(args) == 0 {
		return errorf(io, "usage: flareops state list|show|rm [-dir DIR] [ADDRESS]")
	}
	sub := args[0]
	fs := newFlags("state "+sub, io)
	dir := fs.String("dir", ".", "configuration directory")
	wsFlag := fs.String("workspace", "", "workspace (default $FLAREOPS_WORKSPACE, else \"default\")")
	if !parse(fs, args[1:]) {
		return ExitError
	}
	ws, err := resolveWorkspace(*wsFlag, io)
	if err != nil {
		return errorf(io, "%v", err)
	}
	ref, err := resolveTarget(*dir, ws, io)
	if err != nil {
		return errorf(io, "%v", err)
	}
	switch sub {
	case "list":
		st, err := reconciler.LoadState(*dir, ref)
		if err != nil {
			return errorf(io, "%v", err)
		}
		for _, a := range st.Addresses() {
			fmt.Fprintln(io.Stdout, a)
		}
		return ExitOK
	case "show":
		if fs.NArg() != 1 {
			return errorf(io, "usage: flareops state show [-dir DIR] ADDRESS")
		}
		st, err := reconciler.LoadState(*dir, ref)
		if err != nil {
			return errorf(io, "%v", err)
		}
		e, ok := st.Get(fs.Arg(0))
		if !ok {
			return errorf(io, "%s is not in the state; `flareops state list` shows what is", fs.Arg(0))
		}
		b, err := json.MarshalIndent(e, "", "  ")
		if err != nil {
			return errorf(io, "%v", err)
		}
		fmt.Fprintf(io.Stdout, "# %s\n%s\n", fs.Arg(0), b)
		return ExitOK
	case "rm":
		if fs.NArg() != 1 {
			return errorf(io, "usage: flareops state rm [-dir DIR] ADDRESS")
		}
		l, err := reconciler.LockState(*dir, ref)
		if err != nil {
			return errorf(io, "%v", err)
		}
		defer l.Unlock()
		st, err := reconciler.LoadState(*dir, ref)
		if err != nil {
			return errorf(io, "%v", err)
		}
		if _, ok := st.Get(fs.Arg(0)); !ok {
			return errorf(io, "%s is not in the state; `flareops state list` shows what is", fs.Arg(0))
		}
		if err := st.Remove(fs.Arg(0)); err != nil {
			return errorf(io, "%v", err)
		}
		fmt.Fprintf(io.Stdout, "Removed %s from the state. The object still exists in the account; flareops no longer manages it.\n", fs.Arg(0))
		return ExitOK
	}
	return errorf(io, "unknown state command %q: use list, show or rm", sub)
}

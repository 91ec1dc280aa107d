package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/config"
)

// stateUsage lists the state subcommands.
const stateUsage = "usage: flareops state list|show|rm|unlock|migrate [-dir DIR] [-workspace NAME] [ADDRESS]"

// stateCmd is what the state subcommands share: the configuration (for its backend
// block), the target and workspace, and, for a remote state, the connection.
type stateCmd struct {
	cf  configFlags
	io  IO
	cfg *loaded
	ref reconciler.Target
	// backend is the backend block (nil: local state), see remoteBackend.
	backend *config.Backend
	tgt     *target // nil until connect
}

func (c *stateCmd) command(args ...string) string {
	s := session{cf: c.cf}
	return s.command(args...)
}

// connect opens the target when the state is remote (its R2 is the way there).
func (c *stateCmd) connect() error {
	if c.backend == nil || c.tgt != nil {
		return nil
	}
	t, err := openTarget(c.cf.dir, c.ref, c.io)
	if err != nil {
		return err
	}
	c.tgt = t
	return nil
}

func (c *stateCmd) close() {
	if c.tgt != nil {
		if err := c.tgt.close(); err != nil {
			fmt.Fprintf(c.io.Stderr, "Warning: %v\n", err)
		}
	}
}

// open opens the state, locked by command lock ("" for none).
func (c *stateCmd) open(ctx context.Context, lock string) (*stateHandle, error) {
	if err := c.connect(); err != nil {
		return nil, err
	}
	return openState(ctx, stateOpts{dir: c.cf.dir, ref: c.ref, backend: c.backend, tgt: c.tgt, lock: lock, unlock: c.command("state unlock")})
}

func runState(args []string, io IO) int {
	if len(args) == 0 {
		return errorf(io, "%s", stateUsage)
	}
	sub := args[0]
	fs := newFlags("state "+sub, io)
	var cf configFlags
	cf.register(fs)
	force := false
	to, id := "", ""
	switch sub {
	case "unlock":
		fs.StringVar(&id, "id", "", "break the lock only if its lock id is `LOCK_ID`, as the refused command and state unlock print it (recommended, with or without -force)")
		fs.BoolVar(&force, "force", false, "break the lock without asking (for CI): with -id, only that lock; without, whatever lock it reads")
	case "migrate":
		fs.StringVar(&to, "to", "", "where to move the state: r2 (the backend block's object) or local (.flareops/)")
		fs.BoolVar(&force, "force", false, "overwrite a state that is not empty at the destination")
	case "list", "show", "rm":
	default:
		return errorf(io, "unknown state command %q: use list, show, rm, unlock or migrate", sub)
	}
	if !parse(fs, args[1:]) {
		return ExitError
	}
	ws, err := resolveWorkspace(cf.workspace, io)
	if err != nil {
		return errorf(io, "%v", err)
	}
	cf.workspace = ws
	cfg, ok := loadConfig(cf, io)
	if !ok {
		return ExitError
	}
	ref, err := resolveTarget(cf.dir, ws, io)
	if err != nil {
		return errorf(io, "%v", err)
	}
	backend, err := remoteBackend(cfg, io)
	if err != nil {
		return errorf(io, "%v", err)
	}
	c := &stateCmd{cf: cf, io: io, cfg: cfg, ref: ref, backend: backend}
	defer c.close()
	ctx, cancel := interruptible()
	defer cancel()
	switch sub {
	case "list":
		return c.list(ctx, fs.Args())
	case "show":
		return c.show(ctx, fs.Args())
	case "rm":
		return c.rm(ctx, fs.Args())
	case "unlock":
		return c.unlock(ctx, fs.Args(), id, force)
	default:
		return c.migrate(ctx, fs.Args(), to, force)
	}
}

func (c *stateCmd) list(ctx context.Context, args []string) int {
	if len(args) != 0 {
		return errorf(c.io, "usage: flareops state list [-dir DIR]")
	}
	h, err := c.open(ctx, "")
	if err != nil {
		return errorf(c.io, "%v", err)
	}
	defer h.close(&c.io)
	for _, a := range h.st.Addresses() {
		fmt.Fprintln(c.io.Stdout, a)
	}
	return ExitOK
}

func (c *stateCmd) show(ctx context.Context, args []string) int {
	if len(args) != 1 {
		return errorf(c.io, "usage: flareops state show [-dir DIR] ADDRESS")
	}
	h, err := c.open(ctx, "")
	if err != nil {
		return errorf(c.io, "%v", err)
	}
	defer h.close(&c.io)
	e, ok := h.st.Get(args[0])
	if !ok {
		return errorf(c.io, "%s is not in the state; `flareops state list` shows what is", args[0])
	}
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return errorf(c.io, "%v", err)
	}
	fmt.Fprintf(c.io.Stdout, "# %s\n%s\n", args[0], b)
	return ExitOK
}

func (c *stateCmd) rm(ctx context.Context, args []string) int {
	if len(args) != 1 {
		return errorf(c.io, "usage: flareops state rm [-dir DIR] ADDRESS")
	}
	h, err := c.open(ctx, "state rm")
	if err != nil {
		return errorf(c.io, "%v", err)
	}
	if _, ok := h.st.Get(args[0]); !ok {
		h.close(&c.io)
		return errorf(c.io, "%s is not in the state; `flareops state list` shows what is", args[0])
	}
	if err := h.st.Remove(args[0]); err != nil {
		h.close(&c.io)
		return errorf(c.io, "%v", err)
	}
	if err := h.close(nil); err != nil {
		return errorf(c.io, "%v", err)
	}
	fmt.Fprintf(c.io.Stdout, "Removed %s from the state. The object still exists in the account; flareops no longer manages it.\n", args[0])
	return ExitOK
}

// unlock breaks a remote state's lock left by a process that is gone, after showing it
// and asking (or with -force). Only the lock shown is broken: if it changed meanwhile,
// nothing is done. With an id, only the holding of that id is: a lock taken again since
// the id was printed (as a -force in a script could not tell) is left alone.
func (c *stateCmd) unlock(ctx context.Context, args []string, id string, force bool) int {
	if len(args) != 0 {
		return errorf(c.io, "usage: flareops state unlock [-dir DIR] [-workspace NAME] [-id LOCK_ID] [-force]")
	}
	be := c.backend
	if be == nil {
		return errorf(c.io, "the state of %s is a local file, locked only while a flareops process runs (the system releases it when the process ends): there is nothing to unlock", c.cf.dir)
	}
	if err := c.connect(); err != nil {
		return errorf(c.io, "%v", err)
	}
	objs, err := c.tgt.stateR2()
	if err != nil {
		return errorf(c.io, "%v", err)
	}
	held, err := reconciler.ReadRemoteLock(ctx, objs, be.Backend, c.ref.Workspace)
	if err != nil {
		return errorf(c.io, "%v", err)
	}
	url := be.URL(c.ref.Workspace)
	if held == nil {
		fmt.Fprintf(c.io.Stdout, "The state %s is not locked.\n", url)
		return ExitOK
	}
	fmt.Fprintf(c.io.Stdout, "The state %s is locked by %s.\n", url, held.Info.Describe(time.Now()))
	if id != "" {
		if err := held.CheckID(id); err != nil {
			return errorf(c.io, "%v", err)
		}
	}
	if !force {
		fmt.Fprint(c.io.Stdout, "Break this lock only if that process is gone: a flareops still running would fail its next state write. Only 'yes' will be accepted: ")
		if !readYes(c.io) {
			fmt.Fprintln(c.io.Stderr, "Unlock cancelled.")
			return ExitError
		}
	}
	breakIt := held.Break
	if id != "" {
		breakIt = func(ctx context.Context, by string) error { return held.BreakID(ctx, id, by) }
	}
	if err := breakIt(ctx, whoAmI()); err != nil {
		return errorf(c.io, "%v", err)
	}
	if held.Info.ID == "" {
		fmt.Fprintf(c.io.Stdout, "Broke the lock of %s (%s).\n", url, held.Info.Who)
		return ExitOK
	}
	fmt.Fprintf(c.io.Stdout, "Broke the lock of %s held by %s since %s (lock id %s).\n", url, held.Info.Who, held.Info.Since.UTC().Format("2006-01-02T15:04:05Z"), held.Info.ID)
	return ExitOK
}

func readYes(io IO) bool {
	if io.Stdin == nil {
		return false
	}
	line, _ := bufio.NewReader(io.Stdin).ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}

// migrate moves the state between the local file and the backend block's R2 object, under
// both locks, refusing to overwrite a state that is not empty unless forced. The source is
// kept: state.json.migrated beside the local file, KEY.backup in R2.
func (c *stateCmd) migrate(ctx context.Context, args []string, to string, force bool) int {
	if len(args) != 0 {
		return errorf(c.io, "usage: flareops state migrate -to r2|local [-dir DIR] [-workspace NAME] [-force]")
	}
	if to != "r2" && to != "local" {
		return errorf(c.io, "-to %q: use -to r2 (the backend block's object) or -to local (.flareops/)", to)
	}
	be := c.backend
	if be == nil {
		return errorf(c.io, "state migrate moves the state between .flareops/ and the R2 object a backend block names, and %s has none: add `backend \"r2\" { bucket = \"...\" key = \"...\" }` to its flareops block first", c.cf.dir)
	}
	local, err := openState(ctx, stateOpts{dir: c.cf.dir, ref: c.ref, lock: "state migrate"})
	if err != nil {
		return errorf(c.io, "%v", err)
	}
	defer local.close(&c.io)
	if err := c.connect(); err != nil {
		return errorf(c.io, "%v", err)
	}
	remote, err := openState(ctx, stateOpts{dir: c.cf.dir, ref: c.ref, backend: be, tgt: c.tgt, lock: "state migrate", unlock: c.command("state unlock"), migrating: true})
	if err != nil {
		return errorf(c.io, "%v", err)
	}
	defer remote.close(&c.io)
	from, dst := local, remote
	if to == "local" {
		from, dst = remote, local
	}
	if !from.st.Exists() {
		return errorf(c.io, "there is no state at %s to move", from.st.Location())
	}
	if n := dst.st.Len(); n > 0 && !force {
		return errorf(c.io, "%s already holds a state of %d object(s): refusing to overwrite it. Check that it is not another configuration's; -force overwrites it (its previous version is kept as %s.backup)", dst.st.Location(), n, dst.st.Location())
	}
	if err := dst.st.ReplaceResources(from.st.Entries()); err != nil {
		return errorf(c.io, "%v", err)
	}
	moved, fromLoc, dstLoc := dst.st.Len(), from.st.Location(), dst.st.Location()
	if to == "r2" {
		if err := remote.close(nil); err != nil {
			return errorf(c.io, "%v", err)
		}
		if err := os.Rename(fromLoc, fromLoc+".migrated"); err != nil {
			return errorf(c.io, "the state is now in %s, but %s could not be set aside (%v): delete it by hand", dstLoc, fromLoc, err)
		}
		fmt.Fprintf(c.io.Stdout, "Moved the state (%d object(s)) from %s to %s; the file is kept as %s.migrated.\n", moved, fromLoc, dstLoc, fromLoc)
		return ExitOK
	}
	err = from.st.DeleteRemote(ctx)
	if rerr := remote.close(nil); err == nil {
		err = rerr
	}
	if err != nil {
		return errorf(c.io, "the state is now in %s too, but %s could not be removed: %v. Remove the backend block before running flareops again", dstLoc, fromLoc, err)
	}
	fmt.Fprintf(c.io.Stdout, "Moved the state (%d object(s)) from %s to %s; the object is kept as %s.backup. Now remove the backend block from the flareops block: until then flareops looks for the state in R2.\n", moved, fromLoc, dstLoc, fromLoc)
	return ExitOK
}

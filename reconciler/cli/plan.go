package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	stdio "io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/monotask/flareops/reconciler"
)

// session is what plan, apply, drift and destroy share: a loaded configuration, a target
// and an engine over the directory's state.
type session struct {
	cf     configFlags
	io     IO
	cfg    *loaded
	tgt    *target
	engine *reconciler.Engine
	state  *stateHandle
	// secrets are the values of the configuration's sensitive variables, masked in all the
	// session prints (io) and in saved plans.
	secrets []string
}

// openSession loads the configuration, decides the target and workspace, loads the state
// bound to them, and connects. With lock (the command's name), it holds the state lock
// until close. Every check that can fail without the network (settings, workspace, state
// of another target) fails before any request is sent, except for a remote state, which
// is read (and locked) through the target's R2.
func openSession(cf configFlags, io IO, lock string) (*session, bool) {
	s := &session{cf: cf, io: io}
	cfg, ok := loadConfig(cf, io)
	if !ok {
		return nil, false
	}
	s.cfg = cfg
	// A sensitive variable may flow into an attribute that is not sensitive (a name, a
	// URL); whatever the session prints must still not show its value.
	if s.secrets = sensitiveValues(cfg.cfg); len(s.secrets) > 0 {
		mask := maskFunc(s.secrets)
		s.io.Stdout = maskWriter{w: io.Stdout, mask: mask}
		s.io.Stderr = maskWriter{w: io.Stderr, mask: mask}
	}
	ws, err := resolveWorkspace(cf.workspace, io)
	if err != nil {
		errorf(io, "%v", err)
		return nil, false
	}
	s.cf.workspace = ws
	ref, err := resolveTarget(cf.dir, ws, io)
	if err != nil {
		errorf(io, "%v", err)
		return nil, false
	}
	backend, err := remoteBackend(cfg, io)
	if err != nil {
		errorf(io, "%v", err)
		return nil, false
	}
	var tgt *target
	if backend != nil {
		// The remote state is reached through the target's R2.
		if tgt, err = openTarget(cf.dir, ref, io); err != nil {
			errorf(io, "%v", err)
			return nil, false
		}
		s.tgt = tgt
	}
	ctx, cancel := interruptible()
	defer cancel()
	h, err := openState(ctx, stateOpts{dir: cf.dir, ref: ref, backend: backend, tgt: tgt, lock: lock, unlock: s.command("state unlock")})
	if err != nil {
		s.close()
		errorf(io, "%v", err)
		return nil, false
	}
	s.state = h
	st := h.st
	if tgt == nil {
		if tgt, err = openTarget(cf.dir, ref, io); err != nil {
			s.close()
			errorf(io, "%v", err)
			return nil, false
		}
	}
	s.tgt = tgt
	s.engine = &reconciler.Engine{Registry: registry(tgt.client, cfg.settings), State: st, Target: ref, Command: s.command, StandIn: ref.Kind == "local"}
	return s, true
}

// command renders a flareops command line that works from where the user is: with -dir
// and -workspace when they are not the defaults.
func (s *session) command(args ...string) string {
	parts := []string{"flareops"}
	if len(args) > 0 {
		parts = append(parts, args[0])
		args = args[1:]
	}
	if s.cf.dir != "." && s.cf.dir != "" {
		parts = append(parts, "-dir", shellQuote(s.cf.dir))
	}
	if s.cf.workspace != "" && s.cf.workspace != reconciler.DefaultWorkspace {
		parts = append(parts, "-workspace", s.cf.workspace)
	}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// close stores what is left of the state and releases its lock (through the target, for a
// remote state), then disconnects.
func (s *session) close() {
	if s.state != nil {
		s.state.close(&s.io)
	}
	if s.tgt != nil {
		if err := s.tgt.close(); err != nil {
			fmt.Fprintf(s.io.Stderr, "Warning: %v\n", err)
		}
	}
}

func (s *session) plan(ctx context.Context, desired []reconciler.Desired) (*reconciler.Plan, bool) {
	if len(desired) == 0 && s.engine.State.Len() > 0 {
		errorf(s.io, "the configuration in %s declares nothing, but flareops manages %d object(s) there (%s): planning would delete them all. If that is what you want, run `%s`; if not, check -dir (flareops reads every *.flareops.hcl file in it)",
			s.cf.dir, s.engine.State.Len(), s.tgt.desc, s.command("destroy"))
		return nil, false
	}
	p, err := s.engine.Plan(ctx, desired)
	return s.planned(p, err)
}

// planned prints why there is no plan, or returns it.
func (s *session) planned(p *reconciler.Plan, err error) (*reconciler.Plan, bool) {
	if err != nil {
		var pe *reconciler.PlanError
		if errors.As(err, &pe) {
			fmt.Fprintln(s.io.Stderr, "Error: the plan cannot be made:")
			for _, prob := range pe.Problems {
				fmt.Fprintf(s.io.Stderr, "  - %s\n", prob)
			}
			return nil, false
		}
		errorf(s.io, "%v", err)
		return nil, false
	}
	return p, true
}

func (s *session) render(p *reconciler.Plan, format string, drift bool) error {
	o := reconciler.RenderOptions{Color: useColor(s.cf, s.io), Target: s.tgt.desc}
	switch {
	case format == "json" && drift:
		return reconciler.RenderDriftJSON(s.io.Stdout, p)
	case format == "json":
		return reconciler.RenderJSON(s.io.Stdout, p)
	case format == "markdown" && drift:
		return reconciler.RenderDriftMarkdown(s.io.Stdout, p, o)
	case format == "markdown":
		return reconciler.RenderMarkdown(s.io.Stdout, p, o)
	case drift:
		return reconciler.RenderDriftText(s.io.Stdout, p, o)
	default:
		return reconciler.RenderText(s.io.Stdout, p, o)
	}
}

func checkFormat(f string) error {
	switch f {
	case "text", "json", "markdown":
		return nil
	}
	return fmt.Errorf("-format %q: use text, json or markdown", f)
}

// interruptible returns a context cancelled on Ctrl-C or SIGTERM (a CI job's timeout, a
// cancelled workflow): the command stops cleanly, e.g. a drill deletes its scratch target.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// savedPlan is the -out file: the plan and what it was made from. It holds no variable
// values (they may be secret): apply re-reads the configuration with the same -var flags
// and refuses if the configuration, or an object the plan touches, changed since. Dir is
// absolute, so `apply FILE` works from anywhere; the plan carries its target and
// workspace.
type savedPlan struct {
	Plan *reconciler.Plan `json:"plan"`
	Dir  string           `json:"dir"`
}

// observeAndRender is plan and drift: load, observe, plan, print. It returns the plan,
// or nil after printing why there is none, and the values of the sensitive variables.
func observeAndRender(cf configFlags, format string, drift bool, io IO) (*reconciler.Plan, []string) {
	if err := checkFormat(format); err != nil {
		errorf(io, "%v", err)
		return nil, nil
	}
	s, ok := openSession(cf, io, "")
	if !ok {
		return nil, nil
	}
	defer s.close()
	ctx, cancel := interruptible()
	defer cancel()
	p, ok := s.plan(ctx, s.cfg.desired)
	if !ok {
		return nil, nil
	}
	if err := s.render(p, format, drift); err != nil {
		errorf(io, "cannot print the report: %v", err)
		return nil, nil
	}
	return p, s.secrets
}

func runPlan(args []string, io IO) int {
	fs := newFlags("plan", io)
	var cf configFlags
	cf.register(fs)
	out := fs.String("out", "", "save the plan to `FILE`, for flareops apply FILE")
	format := fs.String("format", "text", "output format: text, json or markdown")
	detailed := fs.Bool("detailed-exitcode", false, "exit 0 when there are no changes, 2 when there are, 1 on error")
	if !parse(fs, args) {
		return ExitError
	}
	p, secrets := observeAndRender(cf, *format, false, io)
	if p == nil {
		return ExitError
	}
	if *out != "" {
		abs, err := filepath.Abs(cf.dir)
		if err != nil {
			return errorf(io, "cannot save the plan: %v", err)
		}
		b, err := json.MarshalIndent(savedPlan{Plan: p, Dir: abs}, "", "  ")
		if err != nil {
			return errorf(io, "cannot encode the plan: %v", err)
		}
		// Values derived from sensitive variables are masked: apply compares them masked.
		for _, secret := range secrets {
			if js, err := json.Marshal(secret); err == nil && secret != "" {
				b = bytes.ReplaceAll(b, js[1:len(js)-1], []byte(reconciler.Masked))
			}
		}
		if err := os.WriteFile(*out, append(b, '\n'), 0o600); err != nil {
			return errorf(io, "cannot save the plan: %v", err)
		}
		fmt.Fprintf(io.Stderr, "Saved the plan to %s. Apply exactly this plan with: flareops apply %s\n", *out, *out)
	}
	if *detailed && p.HasChanges() {
		return ExitChanges
	}
	return ExitOK
}

func runDrift(args []string, io IO) int {
	fs := newFlags("drift", io)
	var cf configFlags
	cf.register(fs)
	format := fs.String("format", "text", "output format: text, json or markdown")
	if !parse(fs, args) {
		return ExitError
	}
	p, _ := observeAndRender(cf, *format, true, io)
	if p == nil {
		return ExitError
	}
	return driftExit(p)
}

// driftExit is drift's exit code: 2 when the account was changed outside flareops (with
// or without configuration changes pending), or when a Worker deployed by another tool
// lacks what the configuration declares (Plan.Manual: only its deploy can fix it), 3 when
// only configuration changes are pending (nothing changed outside; a plan not applied
// yet), 0 in sync.
func driftExit(p *reconciler.Plan) int {
	if len(p.Manual) > 0 {
		return ExitChanges
	}
	pending := false
	for _, c := range p.Changes {
		switch {
		case c.Action == reconciler.NoOp || c.Action == reconciler.Forget:
		case c.Origin == reconciler.OriginOutside || c.Origin == reconciler.OriginBoth:
			return ExitChanges
		default:
			pending = true
		}
	}
	if pending {
		return ExitPending
	}
	return ExitOK
}

func runApply(args []string, io IO) int {
	fs := newFlags("apply", io)
	var cf configFlags
	cf.register(fs)
	auto, par := changeFlags(fs, "apply")
	out := applyOutputFlags(fs)
	if !parseChange(fs, args, io) || !out.check(fs, *auto || fs.NArg() == 1, io) {
		return ExitError
	}
	var saved *savedPlan
	if fs.NArg() > 1 {
		return errorf(io, "apply takes at most one argument, a saved plan file")
	}
	if fs.NArg() == 1 {
		b, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return errorf(io, "cannot read the saved plan: %v", err)
		}
		saved = &savedPlan{}
		if err := json.Unmarshal(b, saved); err != nil || saved.Plan == nil {
			return errorf(io, "%s is not a flareops plan file", fs.Arg(0))
		}
		if saved.Plan.FormatVersion != reconciler.PlanFormatVersion {
			return errorf(io, "%s was made by another flareops version (plan format %s): run plan again", fs.Arg(0), saved.Plan.FormatVersion)
		}
		if !flagSet(fs, "dir") {
			cf.dir = saved.Dir
		}
		if ws := saved.Plan.Target.Workspace; ws != "" {
			if cf.workspace != "" && cf.workspace != ws {
				return errorf(io, "%s was made in workspace %q, not %q", fs.Arg(0), ws, cf.workspace)
			}
			cf.workspace = ws
		}
	}
	s, ok := openSession(cf, io, "apply")
	if !ok {
		return ExitError
	}
	defer s.close()
	ctx, cancel := interruptible()
	defer cancel()
	p, ok := s.plan(ctx, s.cfg.desired)
	if !ok {
		return ExitError
	}
	if saved != nil {
		fresh, err := reconciler.RecheckMasked(saved.Plan, p, maskFunc(s.secrets))
		if err != nil {
			return errorf(s.io, "%s: %v", fs.Arg(0), err)
		}
		p = fresh
	} else if code, proceed := s.confirmPlan(p, *auto, "Apply", out); !proceed {
		return code
	}
	return s.apply(ctx, p, *par, out)
}

// confirmPlan prints the plan and asks for approval (unless auto or there is nothing to
// change). proceed is false when the user declined or printing failed (code 1).
func (s *session) confirmPlan(p *reconciler.Plan, auto bool, verb string, out *applyOutput) (code int, proceed bool) {
	if out.json() {
		return ExitOK, true // auto-approved (see applyOutput.check); the result says what was done
	}
	if err := s.render(p, "text", false); err != nil {
		return errorf(s.io, "cannot print the plan: %v", err), false
	}
	if !p.HasChanges() {
		return ExitOK, true // apply still records bookkeeping (prevent_destroy, dependencies)
	}
	if !auto && !confirm(s.io) {
		fmt.Fprintf(s.io.Stderr, "%s cancelled.\n", verb)
		return ExitError, false
	}
	return ExitOK, true
}

func (s *session) apply(ctx context.Context, p *reconciler.Plan, par int, out *applyOutput) int {
	if err := s.tgt.standIn(ctx, p, s.io); err != nil {
		return errorf(s.io, "%v", err)
	}
	report := out.reporter(s, p)
	err := s.engine.Apply(ctx, p, reconciler.ApplyOptions{Parallelism: par, Progress: report})
	// A remote state's last changes are written now (coalesced writes): an apply is
	// complete only once they are stored.
	if ferr := s.engine.State.Flush(); ferr != nil {
		ferr = fmt.Errorf("the changes were made but the state could not be stored: %v. Run `%s`: it reads what exists back from the account", ferr, s.command("plan"))
		if out.json() {
			return out.writeResult(s, errors.Join(err, ferr))
		}
		return errorf(s.io, "%v", ferr)
	}
	if out.json() {
		return out.writeResult(s, err)
	}
	sum := p.Summary()
	if err != nil {
		var ae *reconciler.ApplyError
		if errors.As(err, &ae) && ae.Interrupted {
			inFlight := 0
			for _, e := range ae.Failed {
				if errors.Is(e, reconciler.ErrInterrupted) {
					inFlight++
				}
			}
			fmt.Fprintf(s.io.Stderr, "\nInterrupted. Every change that finished was recorded; %d change(s) were cut short in flight (flareops recorded what it started, and the next plan shows whether they happened), %d were not started, %d failed. Run `%s` to see where things stand.\n",
				inFlight, len(ae.NotStarted)+len(ae.Skipped), len(ae.Failed)-inFlight, s.command("plan"))
			return ExitError
		}
		if errors.As(err, &ae) {
			fmt.Fprintf(s.io.Stderr, "\nError: %d change(s) failed and %d were not attempted; everything else was applied and recorded. Fix the cause and run apply again: it continues from here.\n", len(ae.Failed), len(ae.Skipped))
			return ExitError
		}
		return errorf(s.io, "%v", err)
	}
	if !p.HasChanges() {
		return ExitOK
	}
	fmt.Fprintf(s.io.Stdout, "\nApply complete! Resources: %d created, %d updated, %d replaced, %d destroyed.\n",
		sum[reconciler.Create], sum[reconciler.Update]+sum[reconciler.Adopt], sum[reconciler.Replace], sum[reconciler.Delete])
	return ExitOK
}

func printEvent(io IO, ev reconciler.Event) {
	verbs := map[reconciler.Action][2]string{
		reconciler.Create:  {"Creating...", "Creation complete"},
		reconciler.Update:  {"Modifying...", "Modifications complete"},
		reconciler.Adopt:   {"Adopting...", "Adoption complete"},
		reconciler.Replace: {"Replacing...", "Replacement complete"},
		reconciler.Delete:  {"Destroying...", "Destruction complete"},
		reconciler.Forget:  {"Forgetting...", "Forgotten"},
	}
	v := verbs[ev.Action]
	switch {
	case ev.Interrupted && ev.Err == nil:
		fmt.Fprintf(io.Stderr, "%s: not started: interrupted\n", ev.Address)
	case ev.Interrupted:
		fmt.Fprintf(io.Stderr, "%s: %v\n", ev.Address, ev.Err)
	case ev.Skipped:
		fmt.Fprintf(io.Stderr, "%s: not attempted: a change it depends on failed\n", ev.Address)
	case ev.Err != nil:
		fmt.Fprintf(io.Stderr, "%s: failed: %v\n", ev.Address, ev.Err)
	case !ev.Done:
		fmt.Fprintf(io.Stdout, "%s: %s\n", ev.Address, v[0])
	case ev.ID != "":
		fmt.Fprintf(io.Stdout, "%s: %s [id=%s]\n", ev.Address, v[1], ev.ID)
	default:
		fmt.Fprintf(io.Stdout, "%s: %s\n", ev.Address, v[1])
	}
}

func confirm(io IO) bool {
	fmt.Fprint(io.Stdout, "\nDo you want to perform these actions? Only 'yes' will be accepted: ")
	if io.Stdin == nil {
		return false
	}
	line, _ := bufio.NewReader(io.Stdin).ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}

// changeFlags are the flags of the commands that change the account (apply, destroy).
func changeFlags(fs *flag.FlagSet, verb string) (auto *bool, par *int) {
	auto = fs.Bool("auto-approve", false, verb+" without asking for confirmation")
	par = fs.Int("parallelism", 10, "changes applied at once")
	return auto, par
}

// parseChange parses the flags of apply or destroy (see changeFlags) and checks
// -parallelism.
func parseChange(fs *flag.FlagSet, args []string, io IO) bool {
	if !parse(fs, args) {
		return false
	}
	if n, _ := strconv.Atoi(fs.Lookup("parallelism").Value.String()); n < 1 {
		errorf(io, "-parallelism must be at least 1")
		return false
	}
	return true
}

func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

func runDestroy(args []string, io IO) int {
	fs := newFlags("destroy", io)
	var cf configFlags
	cf.register(fs)
	auto, par := changeFlags(fs, "destroy")
	out := applyOutputFlags(fs)
	if !parseChange(fs, args, io) || !out.check(fs, *auto, io) {
		return ExitError
	}
	s, ok := openSession(cf, io, "destroy")
	if !ok {
		return ExitError
	}
	defer s.close()
	ctx, cancel := interruptible()
	defer cancel()
	// Only what the state holds is touched. prevent_destroy comes from the configuration
	// for blocks still in it, and from the state for blocks removed from it.
	p, ok := s.planned(s.engine.PlanDestroy(ctx, s.cfg.desired))
	if !ok {
		return ExitError
	}
	if code, proceed := s.confirmPlan(p, *auto, "Destroy", out); !proceed {
		return code
	}
	return s.apply(ctx, p, *par, out)
}

// maskWriter writes through to w with every occurrence of a secret replaced by
// "(sensitive)". The renderers write a report in one piece, so a secret is not split
// between two writes.
type maskWriter struct {
	w    stdio.Writer
	mask func(string) string
}

// maskFunc replaces every occurrence of a secret in a text by reconciler.Masked.
func maskFunc(secrets []string) func(string) string {
	return func(s string) string {
		for _, secret := range secrets {
			if secret != "" {
				s = strings.ReplaceAll(s, secret, reconciler.Masked)
			}
		}
		return s
	}
}

func (m maskWriter) Write(p []byte) (int, error) {
	if _, err := stdio.WriteString(m.w, m.mask(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

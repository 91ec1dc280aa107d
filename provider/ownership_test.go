package provider

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", file, diff)
	}
}

// TestOwnershipOf covers every row of the table in ownership.go; the diagnostic of each
// conflict is a golden file.
func TestOwnershipOf(t *testing.T) {
	o := &observation{
		byID:  map[string]reconciler.Object{"1": {Key: "a", ID: "1"}, "2": {Key: "b", ID: "2"}},
		byKey: map[string]reconciler.Object{"a": {Key: "a", ID: "1"}, "b": {Key: "b", ID: "2"}},
	}
	tests := []struct {
		name                 string
		id, statedName, plan string
		conflict, gone       bool
		summary              string
	}{
		{name: "create, name free", plan: "c"},
		{name: "create name taken", plan: "a", conflict: true, summary: `A queue named "a" already exists`},
		{name: "managed, unchanged", id: "1", statedName: "a", plan: "a"},
		{name: "managed, renamed to a free name", id: "1", statedName: "a", plan: "c"},
		{name: "rename onto a taken name", id: "1", statedName: "a", plan: "b", conflict: true, summary: `A queue named "b" already exists`},
		{name: "gone, name free", id: "9", statedName: "c", plan: "c", gone: true},
		{name: "replaced outside", id: "9", statedName: "a", plan: "a", conflict: true, summary: `The queue "a" was replaced outside Terraform`},
		{name: "gone and renamed onto a taken name", id: "9", statedName: "c", plan: "b", conflict: true, summary: `A queue named "b" already exists`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ownershipOf(reconciler.QueueKind{}, o, tt.id, "", tt.statedName, tt.plan)
			if w.conflict() != tt.conflict || w.gone() != tt.gone {
				t.Fatalf("conflict=%v gone=%v, want %v %v", w.conflict(), w.gone(), tt.conflict, tt.gone)
			}
			if !tt.conflict {
				return
			}
			if w.summary() != tt.summary {
				t.Errorf("summary %q, want %q", w.summary(), tt.summary)
			}
			golden(t, "ownership/"+strings.ReplaceAll(tt.name, " ", "_")+".txt", w.summary()+"\n\n"+detail(w.happened(), w.todo(), nil)+"\n")
		})
	}
}

// oneError is a TestCase.ErrorCheck for the steps that must fail (they set no ExpectError;
// see failStep): tofu must report exactly one error diagnostic, matching the step's
// pattern, with every run of white space in the output read as one space. A regexp alone
// cannot say "once".
type oneError struct {
	want *regexp.Regexp
	hits int
}

var errorLine = regexp.MustCompile(`(?m)^\W*Error: `)

func (c *oneError) check(err error) error {
	if c.want == nil {
		return err
	}
	msg := err.Error()
	if n := len(errorLine.FindAllString(msg, -1)); n != 1 {
		return fmt.Errorf("want exactly one error diagnostic, got %d:\n%s", n, msg)
	}
	// tofu wraps the detail to its width: match it as one line.
	if !c.want.MatchString(strings.Join(strings.Fields(msg), " ")) {
		return fmt.Errorf("the error does not match %s:\n%s", c.want, msg)
	}
	c.want = nil
	c.hits++
	return nil
}

// failStep makes step one that must fail with exactly one error matching want, a pattern
// made after the step's PreConfig ran (it may name the ids PreConfig saw).
func (c *oneError) failStep(step resource.TestStep, want func() string) resource.TestStep {
	pre := step.PreConfig
	step.PreConfig = func() {
		if pre != nil {
			pre()
		}
		c.want = regexp.MustCompile("(?s)" + want())
	}
	return step
}

// pattern is a failStep pattern known in advance.
func pattern(s string) func() string { return func() string { return s } }

func queueConfig(tg *target, name string) string {
	return tg.providerBlock() + fmt.Sprintf("resource \"flareops_queue\" \"q\" {\n  name = %q\n}\n", name)
}

// createQueue makes a queue outside Terraform, as a colleague in the dashboard would.
func (tg *target) createQueue(t *testing.T, name string) string {
	t.Helper()
	q, err := tg.client(t).CreateQueue(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return q.ID
}

// expectLive checks that the live queue name has the id want: nothing took it over.
func (tg *target) expectLive(t *testing.T, name string, want *string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		q, ok := tg.liveQueue(t, name)
		if !ok || q.ID != *want {
			return fmt.Errorf("live queue %q: found=%v id %q, want id %q", name, ok, q.ID, *want)
		}
		return nil
	}
}

// writes counts the requests that changed something.
func writes(c emulator.Counts) int {
	n := 0
	for route, k := range c.ByRoute {
		if !strings.HasPrefix(route, "GET ") {
			n += k
		}
	}
	return n
}

// Where the error points: tofu prints the resource address and the name's line.
const atName = `with flareops_queue\.q,.*name = `

// TestQueueOwnershipExistingName: (a) a new resource whose name an unmanaged queue holds
// fails at plan time, once, with the id and both ways to import it, and nothing is
// written; the import block it suggests then brings that queue under management.
func TestQueueOwnershipExistingName(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	id := tg.createQueue(t, "taken")
	var c oneError
	tg.run(t, resource.TestCase{
		ErrorCheck: c.check,
		Steps: []resource.TestStep{
			c.failStep(resource.TestStep{
				PreConfig: tg.srv.ResetCounts,
				Config:    queueConfig(tg, "taken"),
				PlanOnly:  true,
			}, pattern(`Error: A queue named "taken" already exists.*`+atName+`"taken".*`+
				`already has a queue named "taken" \(id `+id+`\), and this flareops_queue does not manage it.*`+
				`terraform import flareops_queue\.NAME `+id+`.*import \{\s+to = flareops_queue\.NAME\s+id = "`+id+`"\s+\}`)),
			{ // the import block the error suggests
				PreConfig: func() {
					if n := writes(tg.srv.Counts()); n != 0 {
						t.Errorf("the refused plan made %d write requests: %v", n, tg.srv.Counts().ByRoute)
					}
				},
				Config: queueConfig(tg, "taken") + fmt.Sprintf("import {\n  to = flareops_queue.q\n  id = %q\n}\n", id),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction("flareops_queue.q", plancheck.ResourceActionNoop)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("flareops_queue.q", tfjsonpath.New("id"), knownvalue.StringExact(id)),
				},
			},
		},
	})
	if c.hits != 1 {
		t.Errorf("%d steps failed as expected, want 1", c.hits)
	}
}

// replacedOutside is the start of case (b): the resource makes queue "jobs", then someone
// deletes it and makes another "jobs"; the plan fails once, naming both ids.
func replacedOutside(t *testing.T, tg *target, c *oneError, oldID, newID *string) []resource.TestStep {
	replace := func() {
		q, ok := tg.liveQueue(t, "jobs")
		if !ok {
			t.Fatal("queue jobs is missing")
		}
		*oldID = q.ID
		if err := tg.client(t).DeleteQueue(context.Background(), q.ID); err != nil {
			t.Fatal(err)
		}
		*newID = tg.createQueue(t, "jobs")
	}
	cfg := queueConfig(tg, "jobs")
	return []resource.TestStep{
		{Config: cfg},
		c.failStep(resource.TestStep{PreConfig: replace, Config: cfg, PlanOnly: true}, func() string {
			return `Error: The queue "jobs" was replaced outside Terraform.*` + atName + `"jobs".*` +
				`The queue this resource manages \(id ` + *oldID + `\) no longer exists, and its name "jobs" now belongs to another queue \(id ` + *newID + `\).*` +
				`terraform state rm flareops_queue\.NAME\s+terraform import flareops_queue\.NAME ` + *newID
		}),
	}
}

// TestQueueOwnershipReplacedOutside: (b) a managed queue deleted and made again by someone
// else under the same name is neither planned as a create nor taken over. Removing the
// resource then only forgets the queue that is gone; the other queue is untouched.
func TestQueueOwnershipReplacedOutside(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	var c oneError
	var oldID, newID string
	steps := replacedOutside(t, tg, &c, &oldID, &newID)
	steps = append(steps, resource.TestStep{
		Config: tg.providerBlock(),
		ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
			plancheck.ExpectResourceAction("flareops_queue.q", plancheck.ResourceActionDestroy),
		}},
		Check: tg.expectLive(t, "jobs", &newID),
	})
	tg.run(t, resource.TestCase{ErrorCheck: c.check, Steps: steps})
	if c.hits != 1 {
		t.Errorf("%d steps failed as expected, want 1", c.hits)
	}
	if _, ok := tg.liveQueue(t, "jobs"); !ok {
		t.Error("the other queue was deleted")
	}
}

// TestQueueOwnershipReplacedOutsideRenamed: after (b), giving the resource a free name
// plans a replacement: the queue that is gone is forgotten, one with the new name is
// made, and the other queue keeps its name.
func TestQueueOwnershipReplacedOutsideRenamed(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	var c oneError
	var oldID, newID string
	steps := replacedOutside(t, tg, &c, &oldID, &newID)
	steps = append(steps, resource.TestStep{
		Config: queueConfig(tg, "jobs-2"),
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction("flareops_queue.q", plancheck.ResourceActionReplace)},
			PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
		},
		Check: func(s *terraform.State) error {
			if err := tg.expectLive(t, "jobs", &newID)(s); err != nil {
				return err
			}
			id := s.RootModule().Resources["flareops_queue.q"].Primary.ID
			return tg.expectLive(t, "jobs-2", &id)(s)
		},
	})
	tg.run(t, resource.TestCase{ErrorCheck: c.check, Steps: steps})
	if c.hits != 1 {
		t.Errorf("%d steps failed as expected, want 1", c.hits)
	}
}

// TestQueueOwnershipReplacedOutsideImport: after (b), the remedy the error gives works:
// forget the old queue (here with a removed block, as `terraform state rm` does) and
// import the new one (here by name, with an import block).
func TestQueueOwnershipReplacedOutsideImport(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	var c oneError
	var oldID, newID string
	steps := replacedOutside(t, tg, &c, &oldID, &newID)
	cfg := queueConfig(tg, "jobs")
	steps = append(steps,
		resource.TestStep{
			Config: tg.providerBlock() + "removed {\n  from = flareops_queue.q\n  lifecycle {\n    destroy = false\n  }\n}\n",
			Check:  tg.expectLive(t, "jobs", &newID),
		},
		resource.TestStep{
			Config: cfg + "import {\n  to = flareops_queue.q\n  id = \"jobs\"\n}\n",
			Check: func(s *terraform.State) error {
				if got := s.RootModule().Resources["flareops_queue.q"].Primary.ID; got != newID {
					return fmt.Errorf("imported id %q, want the new queue's %q", got, newID)
				}
				return nil
			},
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		},
	)
	tg.run(t, resource.TestCase{ErrorCheck: c.check, Steps: steps})
	if c.hits != 1 {
		t.Errorf("%d steps failed as expected, want 1", c.hits)
	}
}

// TestQueueOwnershipRenameOntoTaken: (d) renaming a managed queue onto the name of an
// unmanaged one fails at plan time, once; neither queue changes.
func TestQueueOwnershipRenameOntoTaken(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	var c oneError
	var mineID, otherID string
	tg.run(t, resource.TestCase{
		ErrorCheck: c.check,
		Steps: []resource.TestStep{
			{
				Config: queueConfig(tg, "mine"),
				Check: func(s *terraform.State) error {
					mineID = s.RootModule().Resources["flareops_queue.q"].Primary.ID
					return nil
				},
			},
			c.failStep(resource.TestStep{
				PreConfig: func() {
					otherID = tg.createQueue(t, "other")
					tg.srv.ResetCounts()
				},
				Config:   queueConfig(tg, "other"),
				PlanOnly: true,
			}, func() string {
				return `Error: A queue named "other" already exists.*` + atName + `"other".*` +
					`would rename its queue "mine" \(id ` + mineID + `\) to "other", but the account already has a queue named "other" \(id ` + otherID + `\)`
			}),
			{
				PreConfig: func() {
					if n := writes(tg.srv.Counts()); n != 0 {
						t.Errorf("the refused plan made %d write requests: %v", n, tg.srv.Counts().ByRoute)
					}
				},
				Config:           queueConfig(tg, "mine"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: func(s *terraform.State) error {
					if err := tg.expectLive(t, "mine", &mineID)(s); err != nil {
						return err
					}
					return tg.expectLive(t, "other", &otherID)(s)
				},
			},
		},
	})
	if c.hits != 1 {
		t.Errorf("%d steps failed as expected, want 1", c.hits)
	}
}

// createBeforeApply is a plan check that makes a queue after the plan and before the
// apply, as a colleague could.
type createBeforeApply struct {
	tg   *target
	t    *testing.T
	name string
	id   *string
}

func (c createBeforeApply) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	*c.id = c.tg.createQueue(c.t, c.name)
}

// TestQueueOwnershipBetweenPlanAndApply: a queue made after the plan, under the name the
// plan creates, is refused at apply time, once, and left alone.
func TestQueueOwnershipBetweenPlanAndApply(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	var c oneError
	var id string
	tg.run(t, resource.TestCase{
		ErrorCheck: c.check,
		Steps: []resource.TestStep{
			c.failStep(resource.TestStep{
				Config: queueConfig(tg, "late"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("flareops_queue.q", plancheck.ResourceActionCreate),
					createBeforeApply{tg: tg, t: t, name: "late", id: &id},
				}},
			}, func() string {
				return `Error: A queue named "late" already exists.*already has a queue named "late" \(id [0-9a-f]+\).*terraform import`
			}),
			{
				Config:   tg.providerBlock(),
				PlanOnly: true,
				Check:    tg.expectLive(t, "late", &id),
			},
		},
	})
	if c.hits != 1 {
		t.Errorf("%d steps failed as expected, want 1", c.hits)
	}
	if _, ok := tg.liveQueue(t, "late"); !ok {
		t.Error("the queue made between plan and apply is gone")
	}
}

// refusingKind is the queue kind over a fake observation, counting creates.
type refusingKind struct {
	fakeKind
	creates *int
}

func (k refusingKind) Create(context.Context, reconciler.Object) (string, error) {
	*k.creates++
	return "new", nil
}

// TestQueueCreateRefusesExisting drives Create itself with an object that appeared after
// every plan (CreateNew's check): one error diagnostic, on the name, that says to import.
func TestQueueCreateRefusesExisting(t *testing.T) {
	ctx := context.Background()
	existing := reconciler.Object{Key: "q", ID: "0123", Spec: reconciler.QueueSpec{Name: "q"}}
	creates := 0
	r := NewQueueResource().(*kindResource)
	r.kind = refusingKind{fakeKind{observe: func(context.Context) ([]reconciler.Object, error) {
		return []reconciler.Object{existing}, nil
	}}, &creates}
	r.cache = newObserveCache(observeTTL)

	var sr fwresource.SchemaResponse
	r.Schema(ctx, fwresource.SchemaRequest{}, &sr)
	typ := r.objectType(ctx)
	spec := reconciler.QueueSpec{Name: "q", MessageRetention: 345600, Consumers: reconciler.Consumers{}}
	plan, err := objectFrom(r.schemaKind.Schema(), typ, r.schemaKind.Flatten(spec),
		map[string]tftypes.Value{idAttr: tftypes.NewValue(tftypes.String, tftypes.UnknownValue)})
	if err != nil {
		t.Fatal(err)
	}
	resp := fwresource.CreateResponse{State: tfsdk.State{Schema: sr.Schema, Raw: tftypes.NewValue(typ, nil)}}
	r.Create(ctx, fwresource.CreateRequest{Plan: tfsdk.Plan{Schema: sr.Schema, Raw: plan}}, &resp)

	if creates != 0 {
		t.Errorf("Create made the queue %d times over the existing one", creates)
	}
	if !resp.State.Raw.IsNull() {
		t.Errorf("state recorded: %v", resp.State.Raw)
	}
	if len(resp.Diagnostics) != 1 {
		t.Fatalf("%d diagnostics, want one: %v", len(resp.Diagnostics), resp.Diagnostics)
	}
	d := resp.Diagnostics[0]
	wp, ok := d.(diag.DiagnosticWithPath)
	if d.Severity() != diag.SeverityError || !ok || !wp.Path().Equal(path.Root("name")) {
		t.Errorf("diagnostic %#v, want an error on name", d)
	}
	w := ownership{kind: "queue", name: "q", holder: existing, taken: true}
	if d.Summary() != w.summary() || d.Detail() != detail(w.happened(), w.todo(), nil) {
		t.Errorf("Create says\n%s\n%s\nthe plan would say\n%s\n%s", d.Summary(), d.Detail(), w.summary(), w.happened())
	}
}

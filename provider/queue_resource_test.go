package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/monotask/flareops/emulator"
)

const (
	jobsAddr = "flareops_queue.jobs"
	dlqAddr  = "flareops_queue.dlq"
)

// jobsConfig is a queue with a consumer whose dead-letter queue is another resource.
func jobsConfig(tg *target, worker string, maxRetries int) string {
	return tg.providerBlock() + fmt.Sprintf(`
resource "flareops_queue" "dlq" {
  name              = %q
  message_retention = "14d"
}

resource "flareops_queue" "jobs" {
  name              = %q
  message_retention = "4d"

  consumer {
    worker            = %q
    batch_size        = 5
    max_wait          = "5s"
    max_retries       = %d
    retry_delay       = "30s"
    max_concurrency   = 10
    dead_letter_queue = flareops_queue.dlq.name
  }
}
`, tg.name("tf-jobs-dlq"), tg.name("tf-jobs"), worker, maxRetries)
}

func consumerPath(attr string) tfjsonpath.Path {
	return tfjsonpath.New("consumer").AtSliceIndex(0).AtMapKey(attr)
}

// TestQueueResource runs a queue and its DLQ through their life with a real OpenTofu:
// create, update in place, a consumer that moves to another Worker, import, out-of-band
// drift detected and corrected, an out-of-band deletion, and an empty plan at the end.
func TestQueueResource(t *testing.T) {
	tg := newTarget(t)
	w1, w2 := tg.workers[0], tg.workers[1]
	sameID := statecheck.CompareValue(compare.ValuesSame())
	emptyAfterApply := resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}

	tg.run(t, resource.TestCase{
		CheckDestroy: func(*terraform.State) error {
			for _, n := range []string{tg.name("tf-jobs"), tg.name("tf-jobs-dlq")} {
				if _, ok := tg.liveQueue(t, n); ok {
					return fmt.Errorf("queue %s still exists after destroy", n)
				}
			}
			return nil
		},
		Steps: []resource.TestStep{
			{ // create
				Config: jobsConfig(tg, w1, 3),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(dlqAddr, plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction(jobsAddr, plancheck.ResourceActionCreate),
						// Engine defaults are planned, not "known after apply".
						plancheck.ExpectKnownValue(dlqAddr, tfjsonpath.New("delivery_delay"), knownvalue.StringExact("0s")),
						plancheck.ExpectKnownValue(jobsAddr, consumerPath("type"), knownvalue.StringExact("worker")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(jobsAddr, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(jobsAddr, tfjsonpath.New("id"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(jobsAddr, consumerPath("dead_letter_queue"), knownvalue.StringExact(tg.name("tf-jobs-dlq"))),
					statecheck.ExpectKnownValue(jobsAddr, consumerPath("visibility_timeout"), knownvalue.Null()),
					statecheck.ExpectKnownValue(dlqAddr, tfjsonpath.New("consumer"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue(dlqAddr, tfjsonpath.New("paused"), knownvalue.Bool(false)),
				},
				Check: func(*terraform.State) error {
					q, ok := tg.liveQueue(t, tg.name("tf-jobs"))
					if !ok || len(q.Consumers) != 1 {
						return fmt.Errorf("live queue %s: found %v with %d consumers, want one consumer", tg.name("tf-jobs"), ok, len(q.Consumers))
					}
					c := q.Consumers[0]
					if c.Script != w1 || c.DeadLetterQueue != tg.name("tf-jobs-dlq") || c.BatchSize != 5 || c.MaxRetries != 3 || c.RetryDelay != 30 || c.MaxWaitMs != 5000 || c.MaxConcurrency != 10 {
						return fmt.Errorf("live consumer is %+v", c)
					}
					if q.MessageRetention != 4*86400 {
						return fmt.Errorf("live message_retention is %d, want 4d", q.MessageRetention)
					}
					return nil
				},
			},
			{ // update in place
				Config: jobsConfig(tg, w1, 5),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(jobsAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction(dlqAddr, plancheck.ResourceActionNoop),
						plancheck.ExpectKnownValue(jobsAddr, consumerPath("max_retries"), knownvalue.Int64Exact(5)),
					},
					PostApplyPostRefresh: emptyAfterApply.PostApplyPostRefresh,
				},
				ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue(jobsAddr, tfjsonpath.New("id"))},
				Check:             tg.checkConsumer(t, tg.name("tf-jobs"), w1, 5),
			},
			{ // the consumer moves to another Worker: the queue is updated, not replaced
				Config: jobsConfig(tg, w2, 5),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(jobsAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(jobsAddr, consumerPath("worker"), knownvalue.StringExact(w2)),
					},
					PostApplyPostRefresh: emptyAfterApply.PostApplyPostRefresh,
				},
				ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue(jobsAddr, tfjsonpath.New("id"))},
				Check:             tg.checkConsumer(t, tg.name("tf-jobs"), w2, 5),
			},
			{ // import by id: every attribute reads back as configured
				ResourceName:      jobsAddr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				ResourceName:      dlqAddr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{ // import by name resolves the id
				ResourceName:      jobsAddr,
				ImportState:       true,
				ImportStateId:     tg.name("tf-jobs"),
				ImportStateVerify: true,
			},
			{ // the same with import blocks (Terraform 1.5+), by id, then by name
				ResourceName:    jobsAddr,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
			},
			{
				ResourceName:    jobsAddr,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
				ImportStateId:   tg.name("tf-jobs"),
			},
			{ // neither an id nor a name
				ResourceName:  jobsAddr,
				ImportState:   true,
				ImportStateId: "no-such-queue",
				ExpectError:   regexp.MustCompile(`(?s)Cannot import queue "no-such-queue".*has no queue with the id or the name\s+"no-such-queue"`),
			},
			{ // out-of-band drift: detected by the plan, corrected by apply
				PreConfig: func() { tg.drift(t, tg.name("tf-jobs"), tg.name("tf-jobs-dlq")) },
				Config:    jobsConfig(tg, w2, 5),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectNonEmptyPlan(),
						plancheck.ExpectResourceAction(jobsAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction(dlqAddr, plancheck.ResourceActionUpdate),
					},
					PostApplyPostRefresh: emptyAfterApply.PostApplyPostRefresh,
				},
				ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue(jobsAddr, tfjsonpath.New("id"))},
				Check: func(s *terraform.State) error {
					if err := tg.checkConsumer(t, tg.name("tf-jobs"), w2, 5)(s); err != nil {
						return err
					}
					if q, _ := tg.liveQueue(t, tg.name("tf-jobs-dlq")); q.DeliveryPaused || q.MessageRetention != 14*86400 {
						return fmt.Errorf("live DLQ not corrected: %+v", q)
					}
					return nil
				},
			},
			{ // deleted outside Terraform: the plan creates it again
				PreConfig: func() {
					q, ok := tg.liveQueue(t, tg.name("tf-jobs"))
					if !ok {
						t.Fatal("queue gone before the test deleted it")
					}
					c, ctx := tg.client(t), context.Background()
					for _, con := range q.Consumers {
						if err := c.DeleteConsumer(ctx, q.ID, con.ID); err != nil {
							t.Fatal(err)
						}
					}
					if err := c.DeleteQueue(ctx, q.ID); err != nil {
						t.Fatal(err)
					}
				},
				Config: jobsConfig(tg, w2, 5),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(jobsAddr, plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction(dlqAddr, plancheck.ResourceActionNoop),
					},
					PostApplyPostRefresh: emptyAfterApply.PostApplyPostRefresh,
				},
				Check: tg.checkConsumer(t, tg.name("tf-jobs"), w2, 5),
			},
			{ // the same configuration again: nothing to do, for every resource
				Config: jobsConfig(tg, w2, 5),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectEmptyPlan(),
						plancheck.ExpectResourceAction(jobsAddr, plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction(dlqAddr, plancheck.ResourceActionNoop),
					},
				},
			},
		},
	})
}

// checkConsumer checks that the live queue has exactly one consumer, on worker, with
// maxRetries.
func (tg *target) checkConsumer(t *testing.T, queue, worker string, maxRetries int64) resource.TestCheckFunc {
	return func(*terraform.State) error {
		q, ok := tg.liveQueue(t, queue)
		if !ok {
			return fmt.Errorf("queue %s is gone", queue)
		}
		if len(q.Consumers) != 1 || q.Consumers[0].Script != worker || q.Consumers[0].MaxRetries != maxRetries {
			return fmt.Errorf("live consumers of %s are %+v, want one on %s with max_retries %d", queue, q.Consumers, worker, maxRetries)
		}
		return nil
	}
}

// drift changes both queues behind Terraform's back, as someone in the dashboard would:
// the consumer's max_retries, and the DLQ paused with a shorter retention.
func (tg *target) drift(t *testing.T, queue, dlq string) {
	t.Helper()
	ctx := context.Background()
	c := tg.client(t)
	q, ok := tg.liveQueue(t, queue)
	if !ok || len(q.Consumers) != 1 {
		t.Fatalf("drift: queue %s not found with one consumer", queue)
	}
	con := q.Consumers[0]
	con.MaxRetries = 9
	if err := c.UpdateConsumer(ctx, q.ID, con); err != nil {
		t.Fatalf("drift: %v", err)
	}
	d, ok := tg.liveQueue(t, dlq)
	if !ok {
		t.Fatalf("drift: queue %s not found", dlq)
	}
	d.DeliveryPaused, d.MessageRetention = true, 86400
	if err := c.UpdateQueue(ctx, d); err != nil {
		t.Fatalf("drift: %v", err)
	}
}

// TestQueueResourceEngineDefaults checks the attributes whose default depends on the
// consumer's type: planned as the engine sets them, and back to the default when they
// are left out again, as in the CLI. Equal durations spelled differently are no change.
func TestQueueResourceEngineDefaults(t *testing.T) {
	tg := newTarget(t)
	const addr = "flareops_queue.q"
	cfg := func(consumer string) string {
		return tg.providerBlock() + fmt.Sprintf(`
resource "flareops_queue" "q" {
  name = %q
  consumer {
%s
  }
}
`, tg.name("tf-defaults"), consumer)
	}
	pull := `    type = "http_pull"`
	worker := fmt.Sprintf("    worker = %q", tg.workers[0])
	tg.run(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: cfg(pull),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(addr, consumerPath("batch_size"), knownvalue.Int64Exact(5)),
					plancheck.ExpectKnownValue(addr, consumerPath("visibility_timeout"), knownvalue.StringExact("30s")),
					plancheck.ExpectKnownValue(addr, consumerPath("max_wait"), knownvalue.Null()),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, consumerPath("batch_size"), knownvalue.Int64Exact(5)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("message_retention"), knownvalue.StringExact("4d")),
				},
			},
			{ // the consumer becomes a Worker: its defaults follow the type
				Config: cfg(worker),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(addr, consumerPath("batch_size"), knownvalue.Int64Exact(10)),
					plancheck.ExpectKnownValue(addr, consumerPath("max_wait"), knownvalue.StringExact("5s")),
					plancheck.ExpectKnownValue(addr, consumerPath("visibility_timeout"), knownvalue.Null()),
				}},
			},
			{
				Config: cfg(worker + "\n    batch_size = 50\n    retry_delay = \"60s\""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(addr, consumerPath("batch_size"), knownvalue.Int64Exact(50)),
				}},
			},
			{ // "1m" is "60s": no change, and the state keeps the spelling it had
				Config:           cfg(worker + "\n    batch_size = 50\n    retry_delay = \"1m\""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, consumerPath("retry_delay"), knownvalue.StringExact("60s")),
				},
			},
			{ // batch_size left out again: back to the engine's default, as in the CLI
				Config: cfg(worker + "\n    retry_delay = \"1m\""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(addr, consumerPath("batch_size"), knownvalue.Int64Exact(10)),
				}},
			},
			{
				Config:           cfg(worker + "\n    retry_delay = \"1m\""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// TestQueueResourceValidation checks that Terraform rejects what the CLI rejects, at plan
// time and with the engine's words.
func TestQueueResourceValidation(t *testing.T) {
	tg := newEmulatorTarget(t, emulator.Options{})
	cfg := func(body string) string {
		return tg.providerBlock() + fmt.Sprintf("resource \"flareops_queue\" \"q\" {\n  name = \"bad\"\n%s\n}\n", body)
	}
	tests := []struct {
		name, body string
		want       *regexp.Regexp
	}{
		{"retries out of range", `consumer {
  worker = "w"
  max_retries = 101
}`, regexp.MustCompile(`max_retries must be between 0 and 100; got 101`)},
		{"not a duration", `message_retention = "4 days"`, regexp.MustCompile(`Invalid duration`)},
		{"duration out of range", `message_retention = "30s"`, regexp.MustCompile(`message_retention must be between 1m and 14d; got 30s`)},
		{"duration past int64", `message_retention = "99999999999999999999d"`, regexp.MustCompile(`message_retention must be between 1m and 14d; got\s+"99999999999999999999d"`)},
		{"not whole seconds", `delivery_delay = "1500ms"`, regexp.MustCompile(`delivery_delay must be a whole number of seconds`)},
		{"unknown type", `consumer {
  type = "push"
  worker = "w"
}`, regexp.MustCompile(`type must be one of "worker", "http_pull"; got "push"`)},
		{"worker on a pull consumer", `consumer {
  type = "http_pull"
  worker = "w"
}`, regexp.MustCompile(`(?s)worker, max_wait and max_concurrency apply to worker consumers\s+only`)},
		{"worker consumer without worker", `consumer {
  max_retries = 1
}`, regexp.MustCompile(`worker is required for a worker consumer`)},
		{"two consumers", `consumer {
  worker = "a"
}
consumer {
  worker = "b"
}`, regexp.MustCompile(`Too many consumer blocks`)},
		{"empty dead letter queue", `consumer {
  worker = "w"
  dead_letter_queue = ""
}`, regexp.MustCompile(`dead_letter_queue must name a queue`)},
		{"own dead letter queue", `consumer {
  worker = "w"
  dead_letter_queue = "bad"
}`, regexp.MustCompile(`dead_letter_queue must be another queue`)},
	}
	var steps []resource.TestStep
	for _, tt := range tests {
		steps = append(steps, resource.TestStep{Config: cfg(tt.body), PlanOnly: true, ExpectError: tt.want})
	}
	tg.run(t, resource.TestCase{Steps: steps})
	if n := tg.srv.Counts().Total; n != 0 {
		t.Errorf("invalid configurations made %d API requests, want none", n)
	}
}

// TestQueueResourceUnknownInputs: a consumer whose dead-letter queue is only known at
// apply time still plans (its engine-filled attributes are "known after apply"), applies,
// and settles to an empty plan.
func TestQueueResourceUnknownInputs(t *testing.T) {
	tg := newTarget(t)
	cfg := tg.providerBlock() + fmt.Sprintf(`
resource "flareops_queue" "dlq" {
  name = %q
}

resource "terraform_data" "dlq_name" {
  input = flareops_queue.dlq.name
}

resource "flareops_queue" "q" {
  name = %q
  consumer {
    worker            = %q
    dead_letter_queue = terraform_data.dlq_name.output
  }
}
`, tg.name("tf-unknown-dlq"), tg.name("tf-unknown"), tg.workers[0])
	tg.run(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue("flareops_queue.q", consumerPath("batch_size")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("flareops_queue.q", consumerPath("batch_size"), knownvalue.Int64Exact(10)),
					statecheck.ExpectKnownValue("flareops_queue.q", consumerPath("max_wait"), knownvalue.StringExact("5s")),
				},
			},
			{
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

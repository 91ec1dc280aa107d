package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

func renameDLQConfig(tg *target, dlq string) string {
	return tg.providerBlock() + fmt.Sprintf(`
resource "flareops_queue" "dlq" {
  name = %q
}

resource "flareops_queue" "jobs" {
  name = %q
  consumer {
    worker            = %q
    dead_letter_queue = flareops_queue.dlq.name
  }
}
`, tg.name(dlq), tg.name("jobs"), tg.workers[0])
}

// TestQueueRenameDeadLetterQueue: renaming a queue that is another queue's dead-letter
// queue applies through Terraform too (updated in place: same id), the consumer then names
// it by its new name, and the next plan is empty.
func TestQueueRenameDeadLetterQueue(t *testing.T) {
	tg := newTarget(t)
	var dlqID string
	tg.run(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: renameDLQConfig(tg, "jobs-dlq"), Check: func(s *terraform.State) error {
				dlqID = s.RootModule().Resources["flareops_queue.dlq"].Primary.ID
				return nil
			}},
			{
				Config: renameDLQConfig(tg, "jobs-dead"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("flareops_queue.dlq", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("flareops_queue.jobs", plancheck.ResourceActionUpdate),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(s *terraform.State) error {
					if id := s.RootModule().Resources["flareops_queue.dlq"].Primary.ID; id != dlqID {
						return fmt.Errorf("the dead-letter queue was replaced: id %s, was %s", id, dlqID)
					}
					q, ok := tg.liveQueue(t, tg.name("jobs"))
					if !ok || len(q.Consumers) != 1 || q.Consumers[0].DeadLetterQueue != tg.name("jobs-dead") {
						return fmt.Errorf("live jobs queue: %+v (found %v), want its consumer's dead_letter_queue %s", q, ok, tg.name("jobs-dead"))
					}
					return nil
				},
			},
		},
	})
}

package reconciler

import (
	"context"
	"errors"
	"fmt"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// A consumer names its dead-letter queue by the queue's name, so a queue in use as a
// dead-letter queue cannot simply be renamed: the local Cloudflare refuses it (Unknown
// upstream: Cloudflare documents nothing; refusing is the strictest reading), and where
// the API allowed it the consumers would be left naming a queue that no longer exists.
// updateQueue therefore stages a rename of such a queue, the same way for the CLI and the
// Terraform provider (whatever order their changes come in):
//
//  1. every consumer that names it as its dead-letter queue is set to no dead-letter queue;
//  2. the queue is renamed (same queue, same id: the messages in it stay);
//  3. those consumers name it again, under its new name.
//
// Between 1 and 3 (two API calls per consumer) a message that fails its last retry on
// such a consumer is deleted, as Cloudflare does when no dead-letter queue is configured.
// If the rename fails, the consumers are pointed back at the old name. The consumers keep
// every other setting; each ends as it was, naming the same queue by its new name.

// updateQueue writes q (its settings and name); oldName is its current name.
func (k QueueKind) updateQueue(ctx context.Context, id, oldName string, q cloudflare.Queue) error {
	if oldName == q.Name {
		return k.API.UpdateQueue(ctx, q)
	}
	users, err := k.dlqUsers(ctx, id, oldName)
	if err != nil {
		return fmt.Errorf("cannot rename queue %q: %w", oldName, err)
	}
	if len(users) == 0 {
		return k.API.UpdateQueue(ctx, q)
	}
	if err := k.pointDLQ(ctx, users, ""); err != nil {
		return errors.Join(fmt.Errorf("cannot rename queue %q, the dead-letter queue of %s: %w", oldName, describeUsers(users), err), k.pointDLQ(ctx, users, oldName))
	}
	if err := k.API.UpdateQueue(ctx, q); err != nil {
		if rerr := k.pointDLQ(ctx, users, oldName); rerr != nil {
			return fmt.Errorf("%w; and %s could not be pointed back at it, so it has no dead-letter queue now: %v (the next plan shows it)", err, describeUsers(users), rerr)
		}
		return err
	}
	if err := k.pointDLQ(ctx, users, q.Name); err != nil {
		return fmt.Errorf("renamed queue %q to %q, but could not point %s at the new name, so it has no dead-letter queue now: %w (the next plan shows it; apply again)", oldName, q.Name, describeUsers(users), err)
	}
	return nil
}

// dlqUser is a consumer, on the queue queueID, that names a dead-letter queue.
type dlqUser struct {
	queueID, queueName string
	consumer           cloudflare.Consumer
}

// dlqUsers lists the consumers (of other queues) whose dead-letter queue is name.
func (k QueueKind) dlqUsers(ctx context.Context, id, name string) ([]dlqUser, error) {
	qs, err := k.API.ListQueues(ctx)
	if err != nil {
		return nil, err
	}
	var out []dlqUser
	for _, q := range qs {
		for _, c := range q.Consumers {
			if c.DeadLetterQueue == name && q.ID != id {
				out = append(out, dlqUser{queueID: q.ID, queueName: q.Name, consumer: c})
			}
		}
	}
	return out, nil
}

// pointDLQ sets the dead-letter queue of each consumer to dlq ("" for none).
func (k QueueKind) pointDLQ(ctx context.Context, users []dlqUser, dlq string) error {
	var errs []error
	for _, u := range users {
		c := u.consumer
		c.DeadLetterQueue = dlq
		if err := k.API.UpdateConsumer(ctx, u.queueID, c); err != nil {
			errs = append(errs, fmt.Errorf("consumer %s of queue %q: %w", c.ID, u.queueName, err))
		}
	}
	return errors.Join(errs...)
}

func describeUsers(users []dlqUser) string {
	if len(users) == 1 {
		return fmt.Sprintf("the consumer of queue %q", users[0].queueName)
	}
	return fmt.Sprintf("the consumers of %d queues", len(users))
}

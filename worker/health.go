package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/omtx-hub/omtx-hub/app"
)

// Liveness limits.
const (
	// HungModelCall is how long one model call may run before the worker
	// counts as hung: longer than any activity attempt may last, so
	// Temporal has already given the work to another worker.
	HungModelCall = 2*time.Hour + 10*time.Minute
	// PollerStalled is how long a worker with free slots may go without
	// polling its task queue (a long poll lasts about a minute).
	PollerStalled = 3 * time.Minute
)

// calls follows the model calls of a GPU worker (activities.CallTracker).
type calls struct {
	mu      sync.Mutex
	next    uint64
	running map[uint64]time.Time
	now     func() time.Time
}

func newCalls() *calls { return &calls{running: map[uint64]time.Time{}, now: time.Now} }

func (c *calls) Begin() (end func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.next
	c.next++
	c.running[id] = c.now()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.running, id)
	}
}

// check fails when a model call has run longer than limit.
func (c *calls) check(limit time.Duration) app.Check {
	return func(context.Context) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, start := range c.running {
			if d := c.now().Sub(start); d > limit {
				return fmt.Errorf("a model call has run for %s (limit %s)", d.Round(time.Second), limit)
			}
		}
		return nil
	}
}

// lifecycle says whether a worker's pollers run.
type lifecycle struct {
	started, stopping atomic.Bool
}

func (l *lifecycle) ready(context.Context) error {
	switch {
	case l.stopping.Load():
		return errors.New("stopping")
	case !l.started.Load():
		return errors.New("pollers not started")
	}
	return nil
}

// temporalReachable is a readiness check: Temporal's frontend answers.
func temporalReachable(c client.Client) app.Check {
	return func(ctx context.Context) error {
		if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			return fmt.Errorf("temporal unreachable: %w", err)
		}
		return nil
	}
}

// pollerAlive is a liveness check: while the worker has free slots, the
// task queue has seen its poller (identity) within PollerStalled. A busy
// worker does not poll (its slots are full), and when Temporal cannot be
// asked the check cannot tell, so both pass: only a worker that should be
// polling and is not is restarted.
func pollerAlive(c client.Client, namespace, queue string, typ enumspb.TaskQueueType, identity string, free func() bool, l *lifecycle) app.Check {
	return func(ctx context.Context) error {
		if !l.started.Load() || l.stopping.Load() || !free() {
			return nil
		}
		resp, err := c.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
			Namespace: namespace, TaskQueue: &taskqueuepb.TaskQueue{Name: queue}, TaskQueueType: typ,
		})
		if err != nil {
			return nil // Temporal's outage is not this process's fault
		}
		for _, p := range resp.GetPollers() {
			if p.GetIdentity() == identity {
				if age := time.Since(p.GetLastAccessTime().AsTime()); age > PollerStalled {
					return fmt.Errorf("the poller of %s last polled %s ago", queue, age.Round(time.Second))
				}
				return nil
			}
		}
		return fmt.Errorf("no poller of %s with identity %s", queue, identity)
	}
}

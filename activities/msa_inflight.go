package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/omtx-hub/omtx-hub/msa"
)

// Defaults of the MSA cache's in-flight markers (MSA.Lease, MSA.WaitEvery).
const (
	DefaultMSALease     = 3 * time.Minute
	DefaultMSAWaitEvery = 5 * time.Second
)

// inflight is the content of an MSA cache object's in-flight marker,
// object + ".inflight": the time until which the activity that wrote it
// holds the computation. The holder renews it while it computes, and
// sets it to the past when it fails, so that a waiter takes over at once.
type inflight struct {
	Until time.Time `json:"until"`
}

// putIfAbsent is the create-if-absent write that store.Blobs and
// storetest.Blobs offer beside BlobStore; without it a claim is a plain
// write.
type putIfAbsent interface {
	PutIfAbsent(ctx context.Context, name, contentType string, data []byte) (bool, error)
}

// once makes sure the cache object obj exists, running compute (which
// returns its content) once across the activities that ask for it at the
// same time while its first caller lives: the first writes an in-flight
// marker (create-if-absent) and computes; the others see the marker and
// wait for obj, heartbeating, instead of asking the MSA server again. A
// marker whose lease ran out (its holder died or failed) is taken over by
// a plain write, so two waiters that see it expire together may both
// compute: a rare second request to the MSA server, never a wrong MSA
// (both write the same object). So a job started while its target's
// TargetMSAWorkflow is still computing the target's MSAs waits for them.
func (m *MSA) once(ctx context.Context, obj string, compute func() ([]byte, error)) error {
	marker := obj + ".inflight"
	lease, every := m.Lease, m.WaitEvery
	if lease <= 0 {
		lease = DefaultMSALease
	}
	if every <= 0 {
		every = DefaultMSAWaitEvery
	}
	stop := heartbeat(ctx, 0, nil)
	defer stop()
	for waited := false; ; waited = true {
		ok, err := m.Blobs.Exists(ctx, obj)
		if err != nil {
			return fmt.Errorf("msa cache: %w", err)
		}
		if ok {
			if waited {
				m.log(ctx, "msa computed by another run, read from the cache", "object", obj)
			}
			return nil
		}
		held, err := m.claim(ctx, marker, lease)
		if err != nil {
			return err
		}
		if held {
			break
		}
		if !waited {
			m.log(ctx, "msa being computed by another run; waiting for it", "object", obj)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for msa %s: %w", obj, ctx.Err())
		case <-time.After(every):
		}
	}

	renew := tick(ctx, lease/3, func() { _ = m.writeMarker(ctx, marker, time.Now().Add(lease)) })
	data, err := compute()
	renew()
	if err != nil {
		// Let a waiter take over at once rather than at the lease's end.
		_ = m.writeMarker(context.WithoutCancel(ctx), marker, time.Time{})
		return err
	}
	if err := m.Blobs.Put(ctx, obj, contentTypeOf(obj), data); err != nil {
		return fmt.Errorf("msa cache: %w", err)
	}
	return nil
}

// claim takes the in-flight marker: a new one (create-if-absent where the
// store offers it) or one whose lease ran out. It reports false while
// another holder's lease runs.
func (m *MSA) claim(ctx context.Context, marker string, lease time.Duration) (bool, error) {
	ok, err := m.Blobs.Exists(ctx, marker)
	if err != nil {
		return false, fmt.Errorf("msa cache: %w", err)
	}
	if ok {
		raw, err := m.Blobs.Read(ctx, marker)
		if err != nil {
			return false, fmt.Errorf("msa cache: %w", err)
		}
		var in inflight
		if json.Unmarshal(raw, &in) == nil && time.Now().Before(in.Until) {
			return false, nil
		}
		// Expired, failed or unreadable: take it over.
		return true, m.writeMarker(ctx, marker, time.Now().Add(lease))
	}
	raw, err := json.Marshal(inflight{Until: time.Now().Add(lease)})
	if err != nil {
		return false, err
	}
	if p, ok := m.Blobs.(putIfAbsent); ok {
		created, err := p.PutIfAbsent(ctx, marker, "application/json", raw)
		if err != nil {
			return false, fmt.Errorf("msa cache: %w", err)
		}
		return created, nil
	}
	return true, m.writeMarker(ctx, marker, time.Now().Add(lease))
}

func (m *MSA) writeMarker(ctx context.Context, marker string, until time.Time) error {
	raw, err := json.Marshal(inflight{Until: until})
	if err != nil {
		return err
	}
	if err := m.Blobs.Put(ctx, marker, "application/json", raw); err != nil {
		return fmt.Errorf("msa cache: %w", err)
	}
	return nil
}

// contentTypeOf is a cache object's content type: a Boltz CSV or an A3M.
func contentTypeOf(obj string) string {
	if msa.IsPairedObject(obj) {
		return "text/csv; charset=utf-8"
	}
	return "text/plain; charset=utf-8"
}

func (m *MSA) log(ctx context.Context, msg string, args ...any) {
	if m.Logger != nil {
		m.Logger.InfoContext(ctx, msg, args...)
	}
}

package reconciler_test

import (
	"context"
	"errors"
	"testing"

	"github.com/monotask/flareops/reconciler"
)

// TestCreateNewFromASharedObservation: a create that consults the run's observation makes
// no list; a queue someone else made after that observation was taken is refused by the
// API's name-taken answer, reported as ExistsError with the holder's id, and left exactly
// as its owner made it (no takeover); a name the observation shows is refused without a
// request.
func TestCreateNewFromASharedObservation(t *testing.T) {
	ctx := context.Background()
	srv, c := benchAccountClient(t)
	k := reconciler.QueueKind{API: c}
	free := func(string) (reconciler.Object, bool) { return reconciler.Object{}, false } // observed before "late" existed
	build := func(name string) reconciler.Object {
		o, err := k.Build(reconciler.Values{"name": name, "delivery_delay": int64(0), "message_retention": int64(345600), "paused": false})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}

	srv.ResetCounts()
	id, err := reconciler.CreateNew(ctx, k, build("fresh"), free)
	if err != nil || id == "" {
		t.Fatalf("CreateNew(fresh) = %q, %v", id, err)
	}
	if n := srv.Counts().Total; n != 1 {
		t.Errorf("a create from the shared observation made %d requests, want 1 (no list): %v", n, srv.Counts().ByRoute)
	}

	// Someone else makes "late" after the observation, with settings of their own.
	theirs, err := c.CreateQueue(ctx, "late")
	if err != nil {
		t.Fatal(err)
	}
	theirs.MessageRetention = 60
	if err := c.UpdateQueue(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	id, err = reconciler.CreateNew(ctx, k, build("late"), free)
	var exists *reconciler.ExistsError
	if !errors.As(err, &exists) || id != "" {
		t.Fatalf("CreateNew(late) = %q, %v; want an ExistsError", id, err)
	}
	if exists.ID != theirs.ID || !reconciler.IsNameTaken(err) {
		t.Errorf("ExistsError %+v: want the holder's id %s and the API's name-taken answer", exists, theirs.ID)
	}
	qs, err := c.ListQueues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Name == "late" && (q.ID != theirs.ID || q.MessageRetention != 60) {
			t.Errorf("someone else's queue was changed: %+v", q)
		}
	}

	// A name the observation shows is refused before any request.
	srv.ResetCounts()
	seen := func(key string) (reconciler.Object, bool) {
		return reconciler.Object{Key: key, ID: theirs.ID}, key == "late"
	}
	if _, err := reconciler.CreateNew(ctx, k, build("late"), seen); !errors.As(err, &exists) || exists.ID != theirs.ID {
		t.Fatalf("CreateNew(late, seen) = %v; want an ExistsError with id %s", err, theirs.ID)
	}
	if n := srv.Counts().Total; n != 0 {
		t.Errorf("a name the observation shows cost %d requests, want 0", n)
	}
}

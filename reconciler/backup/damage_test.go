package backup

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/monotask/flareops/reconciler/cloudflare"
)

// A truncated object, a flipped byte, a missing manifest, a manifest that does not match
// the data and a wrong key each make verify, restore and drill fail with a message naming
// the object and the problem, and change nothing in the target.
func TestDamagedBackupsFailAndChangeNothing(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(f *fixture, b *Backup)
		object  func(b *Backup) string // what the message must name
		problem string
	}{
		{
			name: "truncated part",
			damage: func(f *fixture, b *Backup) {
				k := partKeys(b)[1]
				raw, _, _ := f.r2.GetBytes(context.Background(), b.Bucket, k, 1<<30)
				f.put(b.Bucket, k, raw[:len(raw)/2])
			},
			object:  func(b *Backup) string { return partKeys(b)[1] },
			problem: "truncated",
		},
		{
			name: "flipped byte",
			damage: func(f *fixture, b *Backup) {
				k := partKeys(b)[1]
				raw, _, _ := f.r2.GetBytes(context.Background(), b.Bucket, k, 1<<30)
				raw[len(raw)/3] ^= 0x01
				f.put(b.Bucket, k, raw)
			},
			object:  func(b *Backup) string { return partKeys(b)[1] },
			problem: "SHA-256",
		},
		{
			name: "missing manifest",
			damage: func(f *fixture, b *Backup) {
				if err := f.r2.Delete(context.Background(), b.Bucket, b.Folder+ManifestName); err != nil {
					f.t.Fatal(err)
				}
			},
			object:  func(b *Backup) string { return b.Folder + ManifestName },
			problem: "missing",
		},
		{
			name: "manifest does not match the data",
			damage: func(f *fixture, b *Backup) {
				m := *b.Manifest
				m.Contents = append([]Content(nil), m.Contents...)
				m.Contents[0].Items++
				raw, _ := json.Marshal(&m)
				f.put(b.Bucket, b.Folder+ManifestName, raw)
			},
			object:  func(b *Backup) string { return b.Folder + ManifestName },
			problem: "the manifest does not match the data",
		},
		{
			name:    "wrong key",
			damage:  func(f *fixture, b *Backup) { f.env.Identity, _ = newIdentity(f.t) },
			object:  func(b *Backup) string { return b.Folder + ManifestName },
			problem: "not one of the backup's recipients",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			ctx := t.Context()
			secret, recipient := newIdentity(t)
			f.env.Identity = secret
			f.env.PartSize = 16 << 10 // several parts, so the message must name the right one
			f.seedD1("tasks", map[string]int{"tasks": 3000, "tags": 200})
			target := f.seedD1("restore-target", map[string]int{"sentinel": 3})
			before := f.exportD1(target.UUID)
			job := f.job(SourceD1, "tasks", recipient)
			b, err := f.env.Run(ctx, job)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Manifest.Parts) < 3 {
				t.Fatalf("want several parts, got %d", len(b.Manifest.Parts))
			}
			tt.damage(f, b)
			object, problem := tt.object(b), tt.problem
			mustName := func(op string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s of a damaged backup succeeded", op)
				}
				t.Logf("%s: %v", op, err)
				if !strings.Contains(err.Error(), object) || !strings.Contains(err.Error(), problem) {
					t.Errorf("%s error does not name %s and %q:\n%v", op, object, problem, err)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("%s error shows the identity", op)
				}
			}

			// verify and restore -id read the manifest from the bucket first.
			rb, err := f.env.Find(ctx, job, b.ID)
			if err == nil {
				_, err = f.env.Verify(ctx, rb)
			}
			mustName("verify", err)
			if rb != nil {
				_, err = f.env.Restore(ctx, rb, RestoreOptions{To: "restore-target", Force: true})
			}
			mustName("restore", err)
			if after := f.exportD1(target.UUID); after != before {
				t.Error("a failed restore changed the target")
			}
			if _, err := f.api.FindD1Database(ctx, "new-target"); !cloudflare.IsNotFound(err) {
				t.Fatalf("precondition: %v", err)
			}
			if rb != nil {
				if _, err := f.env.Restore(ctx, rb, RestoreOptions{To: "new-target"}); err == nil {
					t.Error("restore into a new target succeeded")
				}
				if _, err := f.api.FindD1Database(ctx, "new-target"); !cloudflare.IsNotFound(err) {
					t.Errorf("a failed restore created its target: %v", err)
				}
			}

			r, err := f.env.Drill(ctx, job)
			if tt.name == "missing manifest" {
				mustName("drill", err)
			} else {
				if err != nil {
					t.Fatalf("drill: %v", err)
				}
				if r.Passed {
					t.Error("the drill of a damaged backup passed")
				}
				mustName("drill", errorsOf(r))
			}
			f.assertNoScratch()
		})
	}
}

func errorsOf(r *DrillReport) error {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Detail)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &DamageError{Object: "drill", Problem: strings.Join(out, "; ")}
}

func (f *fixture) put(bucket, key string, body []byte) {
	f.t.Helper()
	// The damage comes later than the backup's own write of the key: R2 takes one write
	// per second to one key.
	f.srv.Advance(time.Second)
	if _, err := f.r2.Put(context.Background(), bucket, key, body, cloudflare.PutOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

// KV and R2 restores write many requests, so they too must read the whole backup before
// the first: a damaged KV or R2 backup leaves the target as it was.
func TestDamagedKVAndR2BackupsChangeNothing(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	secret, recipient := newIdentity(t)
	f.env.Identity = secret
	f.env.PartSize = 2 << 10
	f.seedKV("sessions", 600)
	f.seedR2("uploads", 60)
	target := f.seedKV("kv-target", 3)
	f.seedR2("r2-target", 2)
	kvBefore, r2Before := f.kvSnapshot(target.ID), f.r2Snapshot("r2-target")

	for _, job := range []Job{f.job(SourceKV, "sessions", recipient), f.job(SourceR2, "uploads", recipient)} {
		b, err := f.env.Run(ctx, job)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Manifest.Parts) < 2 {
			t.Fatalf("%s: want several parts, got %d", job.Source, len(b.Manifest.Parts))
		}
		last := partKeys(b)[len(b.Manifest.Parts)-1]
		raw, _, err := f.r2.GetBytes(ctx, b.Bucket, last, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		raw[len(raw)-5] ^= 0x80 // in the last part: every other part is fine and read first
		f.put(b.Bucket, last, raw)
		to := map[SourceKind]string{SourceKV: "kv-target", SourceR2: "r2-target"}[job.Source.Kind]
		_, err = f.env.Restore(ctx, b, RestoreOptions{To: to, Force: true})
		if err == nil || !strings.Contains(err.Error(), last) || !strings.Contains(err.Error(), "SHA-256") || !strings.Contains(err.Error(), "nothing was written") {
			t.Errorf("restore of damaged %s = %v; want the damaged part named and nothing written", job.Source, err)
		}
		r, err := f.env.Drill(ctx, job)
		if err != nil {
			t.Fatal(err)
		}
		if r.Passed || !strings.Contains(errorsOf(r).Error(), last) {
			t.Errorf("drill of damaged %s: passed=%v %v", job.Source, r.Passed, errorsOf(r))
		}
	}
	if diff := mapDiff(kvBefore, f.kvSnapshot(target.ID)); diff != "" {
		t.Errorf("a failed restore changed the KV target: %s", diff)
	}
	if diff := mapDiff(r2Before, f.r2Snapshot("r2-target")); diff != "" {
		t.Errorf("a failed restore changed the R2 target: %s", diff)
	}
	f.assertNoScratch()
}

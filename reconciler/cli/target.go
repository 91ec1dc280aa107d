package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// LocalAccountID is the account of the built-in local Cloudflare.
const LocalAccountID = "0123456789abcdef0123456789abcdef"

// The settings that point flareops at an account.
const (
	envToken   = "CLOUDFLARE_API_TOKEN"
	envAccount = "CLOUDFLARE_ACCOUNT_ID"
	envBaseURL = "CLOUDFLARE_BASE_URL"
)

// target is the account a command works on: real Cloudflare, or the built-in local one.
type target struct {
	ref    reconciler.Target
	client *cloudflare.Client
	desc   string
	close  func() error
	// linkPagerDuty links a PagerDuty service on the built-in local Cloudflare (nil elsewhere).
	linkPagerDuty func(name string) string
	// r2 says how to reach the target's R2 objects (see R2).
	r2 func(why string) (cloudflare.R2Config, error)
	// createStateBucket makes a backend block's missing bucket, saying so: on the built-in
	// local Cloudflare only, flareops's own account (nil elsewhere: in an account a
	// missing bucket is an error that says how to create it).
	createStateBucket func(ctx context.Context, name string) error
}

// R2 is a client for the target's R2 objects (remote state, backups), through R2's S3
// API. The built-in local Cloudflare serves that API at its own address and needs no
// credentials; an account needs R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY, and takes the
// endpoint from FLAREOPS_R2_ENDPOINT or the account. why says what needs R2 objects, for
// the error when credentials are missing ("remote state in R2").
func (t *target) R2(why string) (*cloudflare.R2, error) {
	cfg, err := t.r2(why)
	if err != nil {
		return nil, err
	}
	return cloudflare.NewR2(cfg)
}

// resolveTarget decides the target from the environment alone, before any request: the
// built-in local Cloudflare only when no Cloudflare setting at all is present; an account
// when the token and the account id are; anything in between is an error naming what is
// missing (a missing CI secret must never send an apply somewhere else).
func resolveTarget(dir, workspace string, io IO) (reconciler.Target, error) {
	token, acct, base := io.Getenv(envToken), io.Getenv(envAccount), io.Getenv(envBaseURL)
	if token == "" && acct == "" && base == "" {
		return reconciler.Target{Kind: "local", DataDir: reconciler.LocalDataDir, Workspace: workspace}, nil
	}
	var set, missing []string
	for _, kv := range [][2]string{{envToken, token}, {envAccount, acct}, {envBaseURL, base}} {
		if kv[1] != "" {
			set = append(set, kv[0])
		} else if kv[0] != envBaseURL {
			missing = append(missing, kv[0])
		}
	}
	if len(missing) > 0 {
		return reconciler.Target{}, fmt.Errorf("%s %s set but %s %s not: set %s to work on that account, or unset %s to use the built-in local Cloudflare. flareops does not fall back to another target",
			strings.Join(set, " and "), isAre(len(set)), strings.Join(missing, " and "), isAre(len(missing)), strings.Join(missing, " and "), strings.Join(set, " and "))
	}
	if len(acct) != 32 || strings.Trim(acct, "0123456789abcdefABCDEF") != "" {
		return reconciler.Target{}, fmt.Errorf("%s %q is not a Cloudflare account id (32 hexadecimal characters)", envAccount, acct)
	}
	if base == "" {
		base = cloudflare.DefaultBaseURL
	}
	return reconciler.Target{Kind: "account", AccountID: strings.ToLower(acct), BaseURL: strings.TrimRight(base, "/"), Workspace: workspace}, nil
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// openTarget connects to the resolved target: Cloudflare (or a compatible server), or the
// built-in local Cloudflare persisted under dir/.flareops/local, saying so. The local
// Cloudflare's store is one file, so one process at a time uses it.
func openTarget(dir string, ref reconciler.Target, io IO) (*target, error) {
	limit, window, err := cloudflare.ParseRateLimit(io.Getenv("FLAREOPS_RATE_LIMIT"))
	if err != nil {
		return nil, fmt.Errorf("FLAREOPS_RATE_LIMIT: %w", err)
	}
	if ref.Kind == "account" {
		c, err := cloudflare.New(cloudflare.Config{BaseURL: ref.BaseURL, Token: io.Getenv(envToken), AccountID: ref.AccountID, RateLimit: limit, RateWindow: window})
		if err != nil {
			return nil, err
		}
		r2 := func(why string) (cloudflare.R2Config, error) {
			return cloudflare.R2ConfigFromEnv(io.Getenv, ref.AccountID, why)
		}
		return &target{ref: ref, client: c, desc: ref.Describe(), close: func() error { return nil }, r2: r2}, nil
	}

	data := filepath.Join(dir, ref.DataDir)
	lock, err := reconciler.LockDir(data)
	if err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another flareops command is using the built-in local Cloudflare in %s; wait for it, or run `flareops local serve -data %s` and point every command at it with %s, %s and %s", data, data, envBaseURL, envToken, envAccount)
		}
		return nil, err
	}
	// As strict as Cloudflare: a consumer's Worker must exist. Apply uploads placeholders
	// for the Workers the plan's stand-ins name (see standIn).
	srv, err := emulator.New(emulator.Options{DataDir: data, RequireConsumerScripts: true})
	if err != nil {
		lock.Unlock()
		return nil, fmt.Errorf("cannot start the local Cloudflare: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		lock.Unlock()
		return nil, fmt.Errorf("cannot start the local Cloudflare: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // Serve returns ErrServerClosed after Close below
	base := "http://" + ln.Addr().String()
	srv.SetBaseURL(base)
	closeAll := func() error { return errors.Join(hs.Close(), srv.Close(), lock.Unlock()) }
	c, err := cloudflare.New(cloudflare.Config{BaseURL: base + emulator.APIPrefix, Token: "local", AccountID: LocalAccountID, RateLimit: limit, RateWindow: window})
	if err != nil {
		return nil, errors.Join(err, closeAll())
	}
	fmt.Fprintf(io.Stderr, "flareops: no Cloudflare settings (%s, %s, %s): using the built-in local Cloudflare in %s\n", envToken, envAccount, envBaseURL, data)
	// The local Cloudflare serves R2's S3 API at its root and does not check signatures.
	r2 := func(string) (cloudflare.R2Config, error) {
		return cloudflare.R2Config{Endpoint: base, AccessKeyID: "local", SecretAccessKey: "local"}, nil
	}
	createStateBucket := func(ctx context.Context, name string) error {
		if _, err := c.CreateR2Bucket(ctx, name); err != nil && !cloudflare.IsR2BucketTaken(err) {
			return fmt.Errorf("cannot create the state bucket %s in the built-in local Cloudflare: %w", name, err)
		}
		fmt.Fprintf(io.Stderr, "flareops: created the R2 bucket %s for the state (the backend block) in the built-in local Cloudflare\n", name)
		return nil
	}
	return &target{ref: ref, client: c, desc: ref.Describe(), close: closeAll, r2: r2, linkPagerDuty: srv.SeedPagerDuty, createStateBucket: createStateBucket}, nil
}

// registry returns the kinds, wired to client (nil for commands that never call the API)
// and given the configuration's settings.
func registry(client *cloudflare.Client, s reconciler.Settings) *reconciler.Registry {
	return reconciler.KindsWith(client, s)
}

// placeholderScript is the Worker the built-in local Cloudflare runs for a Worker the
// configuration names but nobody deploys there: it accepts every batch.
const placeholderScript = "export default { async queue(batch) { batch.ackAll(); } };\n"

// standIn uploads a placeholder for every object the plan's stand-ins name, on the built-in
// local Cloudflare only, saying so.
func (t *target) standIn(ctx context.Context, p *reconciler.Plan, io IO) error {
	if t.ref.Kind != "local" {
		return nil
	}
	for _, s := range p.StandIns {
		var err error
		switch s.Object {
		case "Worker":
			err = t.client.UploadScript(ctx, s.Name, placeholderScript)
		case "containers application":
			_, err = t.client.Raw().CreateApplication(ctx, t.client.AccountID(), cloudflare.ContainerApplicationSpec{
				Name: s.Name, SchedulingPolicy: "default", Instances: 0, MaxInstances: 1,
				Configuration: cloudflare.ContainerConfiguration{Image: placeholderImage, InstanceType: "lite"},
			})
		case "PagerDuty service":
			if t.linkPagerDuty == nil {
				continue
			}
			t.linkPagerDuty(s.Name)
		case "D1 database": // an empty one, for a backup's source
			_, err = t.client.CreateD1Database(ctx, s.Name)
		case "KV namespace":
			_, err = t.client.CreateKVNamespace(ctx, s.Name)
		case "R2 bucket":
			_, err = t.client.CreateR2Bucket(ctx, s.Name)
		default:
			continue
		}
		if err != nil {
			return fmt.Errorf("cannot stand in for %s %s on the local Cloudflare: %w", s.Object, reconciler.PlainOrQuoted(s.Name), err)
		}
		fmt.Fprintf(io.Stderr, "flareops: the local Cloudflare stands in for %s %s with a placeholder\n", s.Object, reconciler.PlainOrQuoted(s.Name))
	}
	return nil
}

// placeholderImage is the image of a containers application the built-in local Cloudflare
// stands in for; nothing runs it there.
const placeholderImage = "registry.cloudflare.com/flareops/placeholder:latest"

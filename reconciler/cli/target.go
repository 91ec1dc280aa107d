package cli

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler"
	"github.com/monotask/flareops/reconciler/cloudflare"
)

// LocalAccountID is the account of the built-in local Cloudflare.
const LocalAccountID = "0123456789abcdef0123456789abcdef"

// target is the account a command works on: real Cloudflare, or the built-in local one.
type target struct {
	client *cloudflare.Client
	desc   string
	close  func() error
}

// openTarget connects to Cloudflare when CLOUDFLARE_API_TOKEN is set, and otherwise
// starts the built-in local Cloudflare persisted under dir/.flareops/local, saying so.
func openTarget(dir string, io IO) (*target, error) {
	limit, window, err := cloudflare.ParseRateLimit(io.Getenv("FLAREOPS_RATE_LIMIT"))
	if err != nil {
		return nil, err
	}
	if token := io.Getenv("CLOUDFLARE_API_TOKEN"); token != "" {
		acct := io.Getenv("CLOUDFLARE_ACCOUNT_ID")
		if acct == "" {
			return nil, errors.New("CLOUDFLARE_API_TOKEN is set but CLOUDFLARE_ACCOUNT_ID is not: set it to the 32-character id of the account to manage")
		}
		base := io.Getenv("CLOUDFLARE_BASE_URL")
		c, err := cloudflare.New(cloudflare.Config{BaseURL: base, Token: token, AccountID: acct, RateLimit: limit, RateWindow: window})
		if err != nil {
			return nil, err
		}
		desc := "account " + acct
		if base != "" {
			desc += " at " + base
		}
		return &target{client: c, desc: desc, close: func() error { return nil }}, nil
	}

	data := filepath.Join(dir, reconciler.StateDir, "local")
	srv, err := emulator.New(emulator.Options{DataDir: data})
	if err != nil {
		return nil, fmt.Errorf("cannot start the local Cloudflare: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("cannot start the local Cloudflare: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // Serve returns ErrServerClosed after Close below
	base := "http://" + ln.Addr().String()
	srv.SetBaseURL(base)
	c, err := cloudflare.New(cloudflare.Config{BaseURL: base + emulator.APIPrefix, Token: "local", AccountID: LocalAccountID, RateLimit: limit, RateWindow: window})
	if err != nil {
		hs.Close()
		srv.Close()
		return nil, err
	}
	rel := data
	if r, err := filepath.Rel(".", data); err == nil {
		rel = r
	}
	fmt.Fprintf(io.Stderr, "flareops: no CLOUDFLARE_API_TOKEN set: using the built-in local Cloudflare in %s\n", rel)
	return &target{client: c, desc: "local Cloudflare (" + rel + ")", close: func() error {
		return errors.Join(hs.Close(), srv.Close())
	}}, nil
}

// registry returns the kinds, wired to client (nil for commands that never call the API).
func registry(client *cloudflare.Client) *reconciler.Registry { return reconciler.Kinds(client) }

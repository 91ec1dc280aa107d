package cli

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/monotask/flareops/emulator"
	"github.com/monotask/flareops/reconciler/cloudflare"
	"github.com/monotask/flareops/reconciler/config"
)

func runFmt(args []string, io IO) int {
	fs := newFlags("fmt", io)
	dir := fs.String("dir", ".", "configuration directory")
	check := fs.Bool("check", false, "only check; exit 1 if a file is not formatted")
	if !parse(fs, args) {
		return ExitError
	}
	changed, err := config.FormatDir(*dir, *check, io.Stdout)
	if err != nil {
		return errorf(io, "%v", err)
	}
	if *check && len(changed) > 0 {
		fmt.Fprintf(io.Stderr, "%d file(s) are not formatted: run flareops fmt\n", len(changed))
		return ExitError
	}
	return ExitOK
}

func runLocal(args []string, io IO) int {
	if len(args) == 0 || args[0] != "serve" {
		return errorf(io, "usage: flareops local serve [-listen ADDR] [-data DIR] [-latency D] [-fail-rate R] [-rate-limit N/WINDOW] [-token T]")
	}
	fs := newFlags("local serve", io)
	listen := fs.String("listen", "127.0.0.1:8787", "address to listen on")
	data := fs.String("data", "", "persist the store in DIR (default: in memory)")
	latency := fs.Duration("latency", 0, "latency added to every API request")
	failRate := fs.Float64("fail-rate", 0, "fraction of API requests answered 503 (0–1)")
	rate := fs.String("rate-limit", "1200/5m", "per-token rate limit, requests/window")
	token := fs.String("token", "", "accept only this API token (default: any)")
	seed := fs.Int64("seed", 1, "seed of the fault injection")
	var pagerDuty multiFlag
	fs.Var(&pagerDuty, "pagerduty", "link a PagerDuty service `NAME` to every account (repeatable; linking is interactive on Cloudflare)")
	if !parse(fs, args[1:]) {
		return ExitError
	}
	if *failRate < 0 || *failRate > 1 {
		return errorf(io, "-fail-rate must be between 0 and 1")
	}
	limit, window, err := cloudflare.ParseRateLimit(*rate)
	if err != nil {
		return errorf(io, "-rate-limit: %v", err)
	}
	srv, err := emulator.New(emulator.Options{
		DataDir: *data, Token: *token, RateLimit: limit, RateWindow: window, RequireConsumerScripts: true,
		Faults: emulator.Faults{Seed: *seed, Latency: *latency, FailRate: *failRate},
	})
	if err != nil {
		return errorf(io, "%v", err)
	}
	defer srv.Close()
	for _, name := range pagerDuty {
		srv.SeedPagerDuty(name)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return errorf(io, "cannot listen on %s: %v", *listen, err)
	}
	base := "http://" + ln.Addr().String()
	srv.SetBaseURL(base)
	fmt.Fprintf(io.Stdout, "flareops local Cloudflare listening on %s\n", base)
	fmt.Fprintf(io.Stdout, "  export CLOUDFLARE_BASE_URL=%s%s\n", base, emulator.APIPrefix)
	fmt.Fprintf(io.Stdout, "  export CLOUDFLARE_API_TOKEN=local CLOUDFLARE_ACCOUNT_ID=%s\n", LocalAccountID)
	fmt.Fprintf(io.Stdout, "  S3 (R2) endpoint: %s (path style, region auto, any access key)\n", base)
	if *data != "" {
		fmt.Fprintf(io.Stdout, "  data: %s\n", *data)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-stop:
		if err := hs.Close(); err != nil {
			return errorf(io, "%v", err)
		}
		return ExitOK
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return ExitOK
		}
		return errorf(io, "%v", err)
	}
}

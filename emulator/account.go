package emulator

import "net/http"

// The account and token-check endpoints. Any well-formed account id is an account the
// token can see (unless Options.Token restricts the token), so clients are configured
// exactly as for Cloudflare.
func (s *Server) routesAccount() {
	s.handle("GET /user/tokens/verify", func(w http.ResponseWriter, r *http.Request) {
		writeResult(w, map[string]any{"id": "0123456789abcdef0123456789abcdef", "status": "active"})
	})
	s.handle("GET /accounts/{account_id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("account_id")
		writeResult(w, map[string]any{
			"id":         id,
			"name":       "flareops local account",
			"type":       "standard",
			"created_on": "2026-01-01T00:00:00Z",
			"settings":   map[string]any{"enforce_twofactor": false},
		})
	})
}

package backup

import (
	"strings"
	"testing"
)

// FLAREOPS_BACKUP_IDENTITY holding a secret in a form the identity reader does not take at
// first sight (the whole file age-keygen writes, with its comment lines; a lower-case key)
// must not come back in the error: the value is a secret, whatever its shape.
func TestIdentityErrorsNeverRepeatTheSecret(t *testing.T) {
	secret, recipient := newIdentity(t)
	keyFile := "# created: 2026-12-03T02:00:00Z\n# public key: " + recipient + "\n" + secret + "\n"
	for _, tt := range []struct {
		name, value string
		works       bool // the value does hold the identity
	}{
		{"age-keygen's whole file", keyFile, true},
		{"lower case", strings.ToLower(secret), false},
		{"a typo in the prefix", "AGE-SECRET-KEX-" + strings.TrimPrefix(secret, "AGE-SECRET-KEY-"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := &Env{Identity: tt.value}
			ids, err := e.identities()
			if err != nil {
				body := strings.TrimPrefix(strings.TrimPrefix(strings.ToUpper(secret), "AGE-SECRET-KEY-"), "1")
				if strings.Contains(strings.ToUpper(err.Error()), body[:20]) {
					t.Fatalf("the error repeats the secret: %v", err)
				}
				if !strings.Contains(err.Error(), EnvIdentity) {
					t.Errorf("the error does not name %s: %v", EnvIdentity, err)
				}
			}
			if tt.works && (err != nil || len(ids) != 1) {
				t.Errorf("identities() = %d, %v; want the identity in the value", len(ids), err)
			}
		})
	}
}

package backup

import (
	"fmt"
	"os"
	"strings"

	"filippo.io/age"
)

// EnvIdentity names the variable holding the age identity that decrypts backups.
const EnvIdentity = "FLAREOPS_BACKUP_IDENTITY"

// identities reads FLAREOPS_BACKUP_IDENTITY: an identity (AGE-SECRET-KEY-1…) or the path of
// a file holding identities. Errors never repeat the value: it is a secret.
func (e *Env) identities() ([]age.Identity, error) {
	v := strings.TrimSpace(e.Identity)
	if v == "" {
		return nil, fmt.Errorf("the backup is encrypted: set %s to the age identity (AGE-SECRET-KEY-1…) or the path of a file holding it", EnvIdentity)
	}
	if strings.HasPrefix(v, "AGE-SECRET-KEY-") {
		ids, err := age.ParseIdentities(strings.NewReader(v))
		if err != nil {
			return nil, fmt.Errorf("%s holds something that is not a valid age identity (AGE-SECRET-KEY-1…)", EnvIdentity)
		}
		return ids, nil
	}
	f, err := os.Open(v)
	if err != nil {
		return nil, fmt.Errorf("%s is neither an age identity (AGE-SECRET-KEY-1…) nor a readable file: %w", EnvIdentity, err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("%s names %s, which holds no valid age identity (AGE-SECRET-KEY-1… lines)", EnvIdentity, v)
	}
	return ids, nil
}

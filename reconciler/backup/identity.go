package backup

import (
	"errors"
	"fmt"
	"io/fs"
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
	// A value with a key in it (age-keygen's whole file, comments included, or a key in
	// the wrong case) is identities, never a path: the path would be printed.
	if strings.Contains(strings.ToUpper(v), "AGE-SECRET-KEY-") || strings.Contains(v, "\n") {
		ids, err := age.ParseIdentities(strings.NewReader(v))
		if err != nil {
			return nil, fmt.Errorf("%s holds something that is not a valid age identity (AGE-SECRET-KEY-1…)", EnvIdentity)
		}
		return ids, nil
	}
	f, err := os.Open(v)
	if err != nil {
		// Not the path in the message: a mistyped key is a secret too.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s is neither an age identity (AGE-SECRET-KEY-1…) nor the path of a readable file (%v); its value is not shown", EnvIdentity, err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("%s names %s, which holds no valid age identity (AGE-SECRET-KEY-1… lines)", EnvIdentity, v)
	}
	return ids, nil
}

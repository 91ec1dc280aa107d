package emulator

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Logpush destinations: the R2 form, its check against the R2 store, and the masking of
// its secret in answers. Error messages never quote destination_conf: it holds a secret.

const (
	logpushMaxDestination = 4096 // destination_conf maxLength
	// logpushSecretMask stands for the secret-access-key in answers.
	logpushSecretMask = "REDACTED"
)

// logpushR2 is a parsed R2 destination.
type logpushR2 struct {
	bucket, path, accountID string
}

// logpushR2Params are the query parameters of an R2 destination (DOCS enable-destinations/r2).
var logpushR2Params = []string{"account-id", "access-key-id", "secret-access-key"}

// logpushParseR2 parses r2://<bucket>[/<path>]?account-id=…&access-key-id=…&secret-access-key=….
// Other destinations (s3://, gs://, https://, …) need an ownership challenge or a live
// endpoint the emulator cannot check; it refuses them.
func logpushParseR2(conf string) (logpushR2, error) {
	var d logpushR2
	if len(conf) > logpushMaxDestination {
		return d, fmt.Errorf("destination_conf is %d characters long, more than %d", len(conf), logpushMaxDestination)
	}
	rest, ok := strings.CutPrefix(conf, "r2://")
	if !ok {
		return d, fmt.Errorf("the local Cloudflare supports only R2 destinations: r2://<bucket>/<path>?account-id=…&access-key-id=…&secret-access-key=…")
	}
	loc, query, _ := strings.Cut(rest, "?")
	d.bucket, d.path, _ = strings.Cut(loc, "/")
	if !r2BucketNameRe.MatchString(d.bucket) {
		return d, fmt.Errorf("the R2 destination names no valid bucket (3-63 lowercase letters, digits and '-')")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return d, fmt.Errorf("the R2 destination's query is malformed")
	}
	for k := range q {
		if !slices.Contains(logpushR2Params, k) {
			return d, fmt.Errorf("the R2 destination has an unknown parameter %q", k)
		}
	}
	for _, k := range logpushR2Params {
		if len(q[k]) != 1 || q[k][0] == "" {
			return d, fmt.Errorf("the R2 destination needs exactly one non-empty %s", k)
		}
	}
	d.accountID = q.Get("account-id")
	switch {
	case !accountIDRe.MatchString(d.accountID):
		return d, fmt.Errorf("the R2 destination's account-id is not a 32-character account id")
	case q.Get("secret-access-key") == logpushSecretMask:
		return d, fmt.Errorf("the R2 destination's secret-access-key is the mask %q that answers show, not a secret", logpushSecretMask)
	}
	return d, nil
}

// logpushCheckDestination checks that the R2 bucket of the destination exists and
// belongs to the destination's account-id: Cloudflare validates a destination when a job
// is created or pointed elsewhere (it writes a test object there). The emulator checks the
// bucket but writes nothing into it, and does not check the R2 credentials (its S3 API
// accepts any key). The caller holds s.mu.
func (s *Server) logpushCheckDestination(j *logpushJob) error {
	d, err := logpushParseR2(j.DestinationConf)
	if err != nil {
		return err
	}
	b := s.st.R2.Buckets[r2BucketKey("default", d.bucket)]
	if b == nil || !r2Visible(b, d.accountID) {
		return fmt.Errorf("error validating destination: R2 bucket %q does not exist in account %s", d.bucket, d.accountID)
	}
	return nil
}

// logpushMaskDestination replaces the value of secret-access-key in a destination with
// logpushSecretMask, leaving everything else as it is.
func logpushMaskDestination(conf string) string {
	base, query, ok := strings.Cut(conf, "?")
	if !ok {
		return conf
	}
	params := strings.Split(query, "&")
	for i, p := range params {
		if k, _, _ := strings.Cut(p, "="); k == "secret-access-key" {
			params[i] = k + "=" + logpushSecretMask
		}
	}
	return base + "?" + strings.Join(params, "&")
}

package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Cron triggers: GET/PUT /accounts/{a}/workers/scripts/{name}/schedules. PUT replaces the
// whole list (an empty array removes every trigger).

const (
	// Cron triggers per account on Paid (DOCS workers limits); Options.CronLimit
	// overrides it (5 is the Free plan's).
	workersDefaultCronLimit = 250
	// workers.api.error.too_many_crons, answered with HTTP 400 (seen in
	// cloudflare/workers-sdk#5998 and #15194).
	workersCodeTooManyCrons = 10072
)

type workersCronItem struct {
	Cron       string    `json:"cron"`
	CreatedOn  time.Time `json:"created_on"`
	ModifiedOn time.Time `json:"modified_on"`
}

func workersCronView(crons []workersCronItem) map[string]any {
	out := make([]map[string]string, 0, len(crons))
	for _, c := range crons {
		out = append(out, map[string]string{
			"cron":        c.Cron,
			"created_on":  timestamp(c.CreatedOn),
			"modified_on": timestamp(c.ModifiedOn),
		})
	}
	return map[string]any{"schedules": out}
}

func (s *Server) workersCronGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc := s.workersScriptFor(w, r); sc != nil {
		writeResult(w, workersCronView(sc.Crons))
	}
}

// workersCronPut replaces the script's triggers. A trigger kept from the previous list
// keeps its created_on and modified_on. Duplicates are refused: Unknown upstream whether
// Cloudflare folds them; refusing is the strictest choice and shows a merge bug early.
func (s *Server) workersCronPut(w http.ResponseWriter, r *http.Request) {
	var body []struct {
		Cron *string `json:"cron"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.workersScriptFor(w, r)
	if sc == nil {
		return
	}
	now, seen := s.Now(), map[string]bool{}
	next := make([]workersCronItem, 0, len(body))
	for i, item := range body {
		if item.Cron == nil {
			writeError(w, http.StatusBadRequest, workersCodeInvalid, fmt.Sprintf("schedule #%d has no cron", i))
			return
		}
		expr := *item.Cron
		if err := workersCheckCron(expr); err != nil {
			writeError(w, http.StatusBadRequest, workersCodeInvalid, err.Error())
			return
		}
		if seen[expr] {
			writeError(w, http.StatusBadRequest, workersCodeInvalid, fmt.Sprintf("cron %q is listed twice", expr))
			return
		}
		seen[expr] = true
		next = append(next, workersKeepCron(sc.Crons, expr, now))
	}
	if msg := s.workersCronOverLimit(r.PathValue("account_id"), sc, len(next)); msg != "" {
		writeError(w, http.StatusBadRequest, workersCodeTooManyCrons, msg)
		return
	}
	sc.Crons = next
	writeResult(w, workersCronView(next))
}

func workersKeepCron(old []workersCronItem, expr string, now time.Time) workersCronItem {
	for _, c := range old {
		if c.Cron == expr {
			return c
		}
	}
	return workersCronItem{Cron: expr, CreatedOn: now, ModifiedOn: now}
}

// workersCronOverLimit explains why the account cannot have sc's triggers replaced by n
// others, or returns "". Cloudflare refuses a list that takes the account over its limit,
// and also refuses every schedule update, even one that removes triggers, while the
// account is over it (cloudflare/workers-sdk#15194); the emulator does both. An account
// can be over the limit here when a persisted store is served with a lower CronLimit.
func (s *Server) workersCronOverLimit(acct string, sc *workersScript, n int) string {
	limit, others := s.opts.CronLimit, s.workersCronCount(acct, sc.Name)
	now, next := others+len(sc.Crons), others+n
	if now <= limit && next <= limit {
		return ""
	}
	return fmt.Sprintf("workers.api.error.too_many_crons: this account has reached the limit of %d cron triggers per account (%d now, %d after this update)",
		limit, now, next)
}

// workersCronCount counts the account's triggers on scripts other than except.
func (s *Server) workersCronCount(acct, except string) int {
	n := 0
	for name, sc := range s.st.Workers.Accounts[acct] {
		if name != except {
			n += len(sc.Crons)
		}
	}
	return n
}

// workersCronField describes one of the five fields Cloudflare accepts (DOCS cron
// triggers: minute, hour, day of month with L and W, month with JAN-DEC, weekday 1-7 with
// SUN-SAT, L and #). `?` and six-field (seconds) expressions are not supported.
type workersCronField struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i
}

var workersCronFields = []workersCronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day of week", min: 1, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}

// workersCheckCron validates a five-field cron expression.
func workersCheckCron(expr string) error {
	parts := strings.Fields(expr)
	if len(parts) != len(workersCronFields) {
		return fmt.Errorf("invalid cron expression %q: it must have 5 fields (minute hour day-of-month month day-of-week), it has %d", expr, len(parts))
	}
	for i, f := range workersCronFields {
		for _, item := range strings.Split(parts[i], ",") {
			if err := f.checkItem(item); err != nil {
				return fmt.Errorf("invalid cron expression %q: %s field %q: %w", expr, f.name, parts[i], err)
			}
		}
	}
	return nil
}

func (f workersCronField) checkItem(item string) error {
	up := strings.ToUpper(item)
	switch {
	case f.name == "day of month" && (up == "L" || up == "LW"):
		return nil
	case f.name == "day of month" && strings.HasSuffix(up, "W"):
		_, err := f.value(strings.TrimSuffix(up, "W"))
		return err
	case f.name == "day of week" && up == "L":
		return nil
	case f.name == "day of week" && strings.HasSuffix(up, "L"):
		_, err := f.value(strings.TrimSuffix(up, "L"))
		return err
	case f.name == "day of week" && strings.Contains(up, "#"):
		day, nth, _ := strings.Cut(up, "#")
		if _, err := f.value(day); err != nil {
			return err
		}
		if n, err := strconv.Atoi(nth); err != nil || n < 1 || n > 5 {
			return fmt.Errorf("#%s must be #1 to #5", nth)
		}
		return nil
	}
	base, step, hasStep := strings.Cut(up, "/")
	if hasStep {
		if n, err := strconv.Atoi(step); err != nil || n < 1 || n > f.max {
			return fmt.Errorf("step /%s must be between 1 and %d", step, f.max)
		}
	}
	if base == "*" {
		return nil
	}
	lo, hi, isRange := strings.Cut(base, "-")
	a, err := f.value(lo)
	if err != nil || !isRange {
		return err
	}
	b, err := f.value(hi)
	if err == nil && a > b {
		err = fmt.Errorf("range %s is backwards", base)
	}
	return err
}

// value parses a number within the field's range or one of its names.
func (f workersCronField) value(s string) (int, error) {
	for i, n := range f.names {
		if s == n {
			return f.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < f.min || v > f.max {
		return 0, fmt.Errorf("%q is not a value between %d and %d", s, f.min, f.max)
	}
	return v, nil
}

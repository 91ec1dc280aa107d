package cloudflare

import "time"

// answers are the arrival times of a pacer's answers, oldest first, with a cursor per
// window length at the first answer inside that window. Answers arrive in time order (the
// pacer reads its clock under its lock), so every cursor and the start only move forward:
// recording an answer, counting those within a window and finding the n-th of them cost
// O(1) amortized, whatever the quota and however many answers a window holds. (A slice
// scanned from the start, or copied down on every prune, costs O(answers in the window)
// per request: with FLAREOPS_RATE_LIMIT=100000000/5m, every answer of five minutes.)
type answers struct {
	times   []time.Time           // times[start:] are kept
	start   int                   // first kept answer
	cursors map[time.Duration]int // window → index of its first answer within it
}

func (a *answers) add(t time.Time) { a.times = append(a.times, t) }

// cursor returns the index of the first answer less than w old at now.
func (a *answers) cursor(now time.Time, w time.Duration) int {
	if a.cursors == nil {
		a.cursors = map[time.Duration]int{}
	}
	i, ok := a.cursors[w]
	if !ok || i < a.start {
		i = a.start
	}
	for i < len(a.times) && now.Sub(a.times[i]) >= w {
		i++
	}
	// A clock that went back (only a test's) brings answers back into the window.
	for i > a.start && now.Sub(a.times[i-1]) < w {
		i--
	}
	a.cursors[w] = i
	return i
}

// within counts the answers less than w old at now.
func (a *answers) within(now time.Time, w time.Duration) int {
	return len(a.times) - a.cursor(now, w)
}

// nth returns the n-th oldest (from 0) of the inWindow newest answers.
func (a *answers) nth(inWindow, n int) time.Time {
	return a.times[len(a.times)-inWindow+n]
}

// prune forgets the answers w old or older at now, and compacts the slice once the
// forgotten part is the larger half (so each answer is copied O(1) times).
func (a *answers) prune(now time.Time, w time.Duration) {
	for a.start < len(a.times) && now.Sub(a.times[a.start]) >= w {
		a.start++
	}
	if a.start < 64 || a.start < len(a.times)/2 {
		return
	}
	n := copy(a.times, a.times[a.start:])
	a.times = a.times[:n]
	for k, i := range a.cursors {
		if i -= a.start; i < 0 {
			i = 0
		}
		a.cursors[k] = i
	}
	a.start = 0
}

package suggest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNames(t *testing.T) {
	consumer := []string{"type", "worker", "batch_size", "max_wait", "max_retries", "retry_delay", "max_concurrency", "visibility_timeout", "dead_letter_queue"}
	queue := []string{"name", "delivery_delay", "message_retention", "paused", "prevent_destroy"}
	tests := []struct {
		name    string
		given   string
		options []string
		want    []string
	}{
		{"typo", "nme", queue, []string{"name"}},
		{"swapped letters", "qeueu", []string{"queue", "variable", "locals"}, []string{"queue"}},
		{"dash for underscore", "dead-letter-queue", consumer, []string{"dead_letter_queue"}},
		{"case", "Name", queue, []string{"name"}},
		{"long typo", "visiblity_timout", consumer, []string{"visibility_timeout"}},
		{"last word", "retention", queue, []string{"message_retention"}},
		{"first word", "dead_letter", consumer, []string{"dead_letter_queue"}},
		{"word of two", "delay", append(queue, consumer...), []string{"delivery_delay", "retry_delay"}},
		{"initials", "dlq", consumer, []string{"dead_letter_queue"}},
		{"typo beats words", "max_wai", consumer, []string{"max_wait"}},
		{"nothing close", "colour", queue, nil},
		{"short names need one edit", "ab", []string{"id"}, nil},
		{"given itself is not a suggestion", "name", queue, nil},
		{"empty", "", queue, nil},
		{"very long", string(make([]byte, 200)), queue, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, Names(tt.given, tt.options)); d != "" {
				t.Errorf("Names(%q) (-want +got):\n%s", tt.given, d)
			}
		})
	}
}

func TestDidYouMean(t *testing.T) {
	tests := []struct {
		given string
		want  string
	}{
		{"nme", ` Did you mean "name"?`},
		{"delay", ` Did you mean "delivery_delay" or "retry_delay"?`},
		{"colour", ""},
	}
	for _, tt := range tests {
		if got := DidYouMean(tt.given, []string{"name", "delivery_delay", "retry_delay"}); got != tt.want {
			t.Errorf("DidYouMean(%q) = %q, want %q", tt.given, got, tt.want)
		}
	}
}

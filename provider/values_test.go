package provider

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/monotask/flareops/reconciler"
)

func TestSpellDuration(t *testing.T) {
	a := reconciler.Attr{Name: "retry_delay", Type: reconciler.Duration, Unit: time.Second}
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	tests := []struct {
		name      string
		n         int64
		spellings []tftypes.Value
		want      string
	}{
		{"no prior: largest exact unit", 60, nil, "1m"},
		{"same value keeps the prior spelling", 60, []tftypes.Value{str("60s")}, "60s"},
		{"a changed value is written canonically", 90, []tftypes.Value{str("60s")}, "90s"},
		{"first matching prior wins", 60, []tftypes.Value{str("1m"), str("60s")}, "1m"},
		{"unknown and null priors are skipped", 60, []tftypes.Value{tftypes.NewValue(tftypes.String, tftypes.UnknownValue), tftypes.NewValue(tftypes.String, nil), str("60000ms")}, "60000ms"},
		{"an invalid prior is skipped", 0, []tftypes.Value{str("soon")}, "0s"},
		{"zero spelled 0", 0, []tftypes.Value{str("0")}, "0"},
		{"days", 345600, nil, "4d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := spellDuration(a, tt.n, tt.spellings); got != tt.want {
				t.Errorf("spellDuration(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

// TestValuesRoundTrip converts a flattened queue to Terraform and back: the engine values
// come back unchanged, and the spellings of the prior value are kept.
func TestValuesRoundTrip(t *testing.T) {
	ctx := context.Background()
	r := NewQueueResource().(*kindResource)
	typ := r.objectType(ctx)
	k := reconciler.QueueKind{}
	vals := reconciler.Values{
		"name": "jobs", "delivery_delay": int64(0), "message_retention": int64(345600), "paused": false,
		"consumer": []reconciler.Values{{
			"type": "worker", "worker": "w", "batch_size": int64(5), "max_wait": int64(5000), "max_retries": int64(3),
			"retry_delay": int64(60), "max_concurrency": int64(10), "dead_letter_queue": reconciler.RefValue{Name: "jobs-dlq"},
		}},
	}
	obj, err := k.Build(vals)
	if err != nil {
		t.Fatal(err)
	}
	first, err := objectFrom(k.Schema(), typ, k.Flatten(obj.Spec), map[string]tftypes.Value{idAttr: tftypes.NewValue(tftypes.String, "q1")})
	if err != nil {
		t.Fatal(err)
	}
	back, err := valuesFrom(k.Schema(), first)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k.Flatten(obj.Spec), back); diff != "" {
		t.Errorf("round trip (-flattened +back):\n%s", diff)
	}
	if id := stateID(first); id != "q1" {
		t.Errorf("id = %q", id)
	}

	// The user wrote "60s" and "96h": the state keeps those spellings.
	prior := setAttr(t, first, "message_retention", "96h")
	prior = setConsumerAttr(t, prior, "retry_delay", "60s")
	again, err := objectFrom(k.Schema(), typ, k.Flatten(obj.Spec), map[string]tftypes.Value{idAttr: tftypes.NewValue(tftypes.String, "q1")}, prior)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Equal(prior) {
		diffs, _ := again.Diff(prior)
		t.Errorf("spellings not kept: %v", diffs)
	}
}

func setAttr(t *testing.T, obj tftypes.Value, name, s string) tftypes.Value {
	t.Helper()
	m, err := objectMap(obj)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]tftypes.Value{}
	for k, v := range m {
		out[k] = v
	}
	out[name] = tftypes.NewValue(tftypes.String, s)
	return tftypes.NewValue(obj.Type(), out)
}

func setConsumerAttr(t *testing.T, obj tftypes.Value, name, s string) tftypes.Value {
	t.Helper()
	m, _ := objectMap(obj)
	elems, _ := listElems(m["consumer"])
	elems[0] = setAttr(t, elems[0], name, s)
	out := map[string]tftypes.Value{}
	for k, v := range m {
		out[k] = v
	}
	out["consumer"] = tftypes.NewValue(m["consumer"].Type(), elems)
	return tftypes.NewValue(obj.Type(), out)
}

// TestAlign checks that nested blocks keep the order Terraform holds them in.
func TestAlign(t *testing.T) {
	bs := reconciler.BlockSchema{Attrs: []reconciler.Attr{{Name: "worker", Type: reconciler.String}, {Name: "max_retries", Type: reconciler.Int}}}
	et := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"worker": tftypes.String, "max_retries": tftypes.Number}}
	elem := func(w string, n int64) tftypes.Value {
		return tftypes.NewValue(et, map[string]tftypes.Value{"worker": tftypes.NewValue(tftypes.String, w), "max_retries": tftypes.NewValue(tftypes.Number, n)})
	}
	prior := []tftypes.Value{elem("b", 1), elem("a", 1)}
	flat := []reconciler.Values{{"worker": "a", "max_retries": int64(2)}, {"worker": "b", "max_retries": int64(1)}, {"worker": "c", "max_retries": int64(1)}}
	ordered, at := align(bs, prior, flat)
	var workers []string
	for _, v := range ordered {
		workers = append(workers, v["worker"].(string))
	}
	if diff := cmp.Diff([]string{"b", "a", "c"}, workers); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{0, 1, -1}, at); diff != "" {
		t.Errorf("prior indexes (-want +got):\n%s", diff)
	}
}

// TestListAndFloatValues converts lists and numbers both ways: an empty list is null or []
// as the first known prior has it (else [] only with a default), and a number keeps an
// earlier spelling of the same float64.
func TestListAndFloatValues(t *testing.T) {
	listT := tftypes.List{ElementType: tftypes.String}
	list := func(ss ...string) tftypes.Value {
		elems := []tftypes.Value{}
		for _, s := range ss {
			elems = append(elems, tftypes.NewValue(tftypes.String, s))
		}
		return tftypes.NewValue(listT, elems)
	}
	null, unknown := tftypes.NewValue(listT, nil), tftypes.NewValue(listT, tftypes.UnknownValue)
	plain := reconciler.Attr{Name: "labels", Type: reconciler.StringList}
	withDefault := reconciler.Attr{Name: "tags", Type: reconciler.StringList, Default: []string{}}
	tests := []struct {
		name   string
		attr   reconciler.Attr
		v      any
		priors []tftypes.Value
		want   tftypes.Value
	}{
		{"elements", plain, []string{"a", "b"}, []tftypes.Value{null}, list("a", "b")},
		{"absent after null", plain, nil, []tftypes.Value{null}, null},
		{"empty after null", plain, []string{}, []tftypes.Value{null, list()}, null},
		{"absent after []", plain, nil, []tftypes.Value{list()}, list()},
		{"absent after elements", plain, nil, []tftypes.Value{list("a")}, list()},
		{"unknown priors are skipped", plain, nil, []tftypes.Value{unknown, list()}, list()},
		{"no prior, no default", plain, nil, nil, null},
		{"no prior, a default", withDefault, nil, nil, list()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeAttr(tt.attr, listT, tt.v, tt.priors)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("encodeAttr = %v, want %v", got, tt.want)
			}
		})
	}
	back, err := decodeAttr(plain, list("a", "b"))
	if d := cmp.Diff([]string{"a", "b"}, back); err != nil || d != "" {
		t.Errorf("decodeAttr: %v (-want +got):\n%s", err, d)
	}
	if back, err := decodeAttr(plain, list()); err != nil || back == nil || len(back.([]string)) != 0 {
		t.Errorf("decodeAttr of [] = %#v, %v; want an empty list", back, err)
	}

	rate := reconciler.Attr{Name: "rate", Type: reconciler.Float}
	decimal, _, _ := big.ParseFloat("0.12345678901234567890", 10, 512, big.ToNearestEven)
	spelled := tftypes.NewValue(tftypes.Number, decimal)
	f, err := decodeAttr(rate, spelled)
	if err != nil || f != 0.12345678901234568 {
		t.Fatalf("decodeAttr = %v, %v", f, err)
	}
	if got, _ := encodeAttr(rate, tftypes.Number, f, []tftypes.Value{spelled}); !got.Equal(spelled) {
		t.Errorf("an equal number is written %v, want the prior %v", got, spelled)
	}
	if got, _ := encodeAttr(rate, tftypes.Number, 0.5, []tftypes.Value{spelled}); !got.Equal(tftypes.NewValue(tftypes.Number, big.NewFloat(0.5))) {
		t.Errorf("a changed number is written %v, want 0.5", got)
	}
	if got, _ := encodeAttr(rate, tftypes.Number, nil, []tftypes.Value{spelled}); !got.IsNull() {
		t.Errorf("an absent number is written %v, want null", got)
	}
}

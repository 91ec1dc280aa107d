package reconciler

import (
	"strings"
	"testing"
)

// TestDatasetColumnsBlock: the columns a block querying a dataset is given (the
// Terraform form) stand for the referenced analytics_dataset's (the CLI's); when both are
// there they must agree, and without either a filter's column is unknown.
func TestDatasetColumnsBlock(t *testing.T) {
	target := Values{"dataset": "api", "columns": []Values{{"index": "tenant", "doubles": []string{"status"}}}}
	own := []Values{{"index": "tenant", "doubles": []string{"status"}}}
	other := []Values{{"index": "tenant", "doubles": []string{"code"}}}
	k := SLOKind{Settings: Settings{OpsKVNamespace: "ops"}}
	build := func(ref RefValue, cols []Values) error {
		sli := Values{"dataset": ref, "good": "status < 500"}
		if cols != nil {
			sli["columns"] = cols
		}
		_, err := k.Build(Values{"name": "s", "objective": 99.0, "window": int64(30 * 86400),
			"dataset_ratio": []Values{sli}, "page_to": []RefValue{{Name: "email:a@example.com"}}})
		return err
	}
	for _, c := range []struct {
		name string
		ref  RefValue
		cols []Values
		want string // "" for success, else part of the error
	}{
		{"cli", RefValue{Name: "api", Target: target}, nil, ""},
		{"cli, columns agree", RefValue{Name: "api", Target: target}, own, ""},
		{"cli, columns differ", RefValue{Name: "api", Target: target}, other, "dataset_ratio.columns: the column names differ from those analytics_dataset api declares"},
		{"terraform", RefValue{Name: "api"}, own, ""},
		{"terraform, other columns", RefValue{Name: "api"}, other, `unknown column "status"`},
		{"terraform, no columns", RefValue{Name: "api"}, nil, `unknown column "status"`},
	} {
		err := build(c.ref, c.cols)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/d1"
)

// D1 databases: lookup, create and delete (for scratch restores), read-only queries, and
// the two bulk flows backups use: the polling export (the dump is streamed from its signed
// URL, never held whole) and the init/upload/ingest/poll import.
// D1Database is a D1 database by name and id.
type D1Database struct{ UUID, Name string }

// d1PollInterval is how long to wait between polls of an export or import that is still
// running (a variable so tests can shorten it).
var d1PollInterval = 500 * time.Millisecond

// transfers downloads signed export URLs and uploads import files. They are not API
// requests: no token is sent and the API's request budget is not spent.
var transfers = &http.Client{}

// FindD1Database returns the database named name; IsNotFound is true of the error when
// there is none.
func (c *Client) FindD1Database(ctx context.Context, name string) (D1Database, error) {
	var p d1.DatabaseListParams
	set(&p.AccountID, c.accountID)
	set(&p.Name, name)
	set(&p.PerPage, float64(100))
	res, err := c.d1.List(ctx, p)
	if err != nil {
		return D1Database{}, failed(fmt.Sprintf("find D1 database %q", name), err)
	}
	for _, db := range res.Result {
		if db.Name == name {
			return D1Database{UUID: db.UUID, Name: db.Name}, nil
		}
	}
	return D1Database{}, fmt.Errorf("cannot find D1 database %q: %w", name, &APIError{Status: http.StatusNotFound, Messages: []string{"no D1 database with that name in the account"}})
}

// CreateD1Database creates an empty database.
func (c *Client) CreateD1Database(ctx context.Context, name string) (D1Database, error) {
	var p d1.DatabaseNewParams
	set(&p.AccountID, c.accountID)
	set(&p.Name, name)
	db, err := c.d1.New(ctx, p)
	if err != nil {
		return D1Database{}, failedCreate(fmt.Sprintf("create D1 database %q", name), err)
	}
	return D1Database{UUID: db.UUID, Name: db.Name}, nil
}

// DeleteD1Database deletes a database; deleting one that is gone succeeds.
func (c *Client) DeleteD1Database(ctx context.Context, id string) error {
	var p d1.DatabaseDeleteParams
	set(&p.AccountID, c.accountID)
	if _, err := c.d1.Delete(ctx, id, p); err != nil && !IsNotFound(apiError(err)) {
		return failed(fmt.Sprintf("delete D1 database %s", id), err)
	}
	return nil
}

// QueryD1 runs one statement and returns its columns and rows (values as JSON decodes
// them: string, float64, nil).
func (c *Client) QueryD1(ctx context.Context, id, sql string, params ...string) ([]string, [][]any, error) {
	var body d1.DatabaseRawParamsBody
	set(&body.Sql, sql)
	if len(params) > 0 {
		set(&body.Params, any(params))
	}
	var p d1.DatabaseRawParams
	set(&p.AccountID, c.accountID)
	p.Body = body
	res, err := c.d1.Raw(ctx, id, p)
	if err != nil {
		return nil, nil, failed(fmt.Sprintf("query D1 database %s", id), err)
	}
	if len(res.Result) == 0 {
		return nil, nil, fmt.Errorf("cannot query D1 database %s: no result", id)
	}
	r := res.Result[0].Results
	return r.Columns, r.Rows, nil
}

// D1Tables lists the database's own tables (not SQLite's or D1's internal ones).
func (c *Client) D1Tables(ctx context.Context, id string) ([]string, error) {
	_, rows, err := c.QueryD1(ctx, id, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_cf\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, r := range rows {
		if len(r) > 0 {
			if s, ok := r[0].(string); ok {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// D1Views lists the database's views.
func (c *Client) D1Views(ctx context.Context, id string) ([]string, error) {
	_, rows, err := c.QueryD1(ctx, id, `SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, r := range rows {
		if s, ok := r[0].(string); ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// ExportD1 runs the polling export of a whole database and opens the dump (SQL) for
// streaming; the caller closes it. The database serves no queries while the export runs,
// and an export not polled is cancelled, so this polls until it completes.
func (c *Client) ExportD1(ctx context.Context, id string) (io.ReadCloser, error) {
	op := fmt.Sprintf("export D1 database %s", id)
	bookmark := ""
	for {
		var p d1.DatabaseExportParams
		set(&p.AccountID, c.accountID)
		set(&p.OutputFormat, d1.DatabaseExportParamsOutputFormatPolling)
		if bookmark != "" {
			set(&p.CurrentBookmark, bookmark)
		}
		res, err := c.d1.Export(ctx, id, p)
		if err != nil {
			return nil, failed(op, err)
		}
		// The SDK reads a 200 with success false as success: the status says.
		switch res.Status {
		case "complete":
			if res.Result.SignedURL == "" {
				return nil, fmt.Errorf("cannot %s: complete without a signed URL", op)
			}
			return c.download(ctx, op, res.Result.SignedURL)
		case "error":
			return nil, fmt.Errorf("cannot %s: %s", op, res.Error)
		case "active":
			if res.AtBookmark == "" {
				return nil, fmt.Errorf("cannot %s: active without a bookmark to poll", op)
			}
			bookmark = res.AtBookmark
		default:
			return nil, fmt.Errorf("cannot %s: unknown status %q", op, res.Status)
		}
		if err := sleepCtx(ctx, d1PollInterval); err != nil {
			return nil, err
		}
	}
}

func (c *Client) download(ctx context.Context, op, url string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot %s: %w", op, err)
	}
	resp, err := transfers.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot %s: download the dump: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512)) // for the message only
		resp.Body.Close()
		return nil, fmt.Errorf("cannot %s: download the dump: %s: %s", op, resp.Status, strings.TrimSpace(string(b)))
	}
	return &sizedBody{rc: resp.Body, want: resp.ContentLength, op: op}, nil
}

// sizedBody fails a download that ends before its Content-Length: a dump cut short must
// never look like a whole one.
type sizedBody struct {
	rc   io.ReadCloser
	want int64
	got  int64
	op   string
}

func (b *sizedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.got += int64(n)
	if errors.Is(err, io.EOF) && b.want >= 0 && b.got != b.want {
		return n, fmt.Errorf("cannot %s: the dump ended after %d of %d bytes", b.op, b.got, b.want)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("cannot %s: download the dump: %w", b.op, err)
	}
	return n, err
}

func (b *sizedBody) Close() error { return b.rc.Close() }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ListD1Databases lists the account's databases, 100 per request.
func (c *Client) ListD1Databases(ctx context.Context) ([]D1Database, error) {
	out := []D1Database{}
	for page := 1; ; page++ {
		var p d1.DatabaseListParams
		set(&p.AccountID, c.accountID)
		set(&p.Page, float64(page))
		set(&p.PerPage, float64(100))
		res, err := c.d1.List(ctx, p)
		if err != nil {
			return nil, failed("list D1 databases", err)
		}
		for _, db := range res.Result {
			out = append(out, D1Database{UUID: db.UUID, Name: db.Name})
		}
		if len(res.Result) < 100 {
			return out, nil
		}
	}
}

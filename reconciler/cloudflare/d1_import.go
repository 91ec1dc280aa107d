package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/cloudflare/cloudflare-go/v6/d1"
)

// D1ImportResult is what a finished import reports.
type D1ImportResult struct {
	NumQueries int
	Bookmark   string
}

// ImportD1 runs a SQL file into a database through the import flow: init with the file's
// MD5 (md5hex), upload size bytes from body to the signed upload URL, ingest, then poll
// until it is done. D1 runs an import as one transaction: on error nothing of it is
// applied.
func (c *Client) ImportD1(ctx context.Context, id, md5hex string, size int64, body io.Reader) (D1ImportResult, error) {
	op := fmt.Sprintf("import into D1 database %s", id)
	svc := c.d1
	imp := func(b d1.DatabaseImportParamsBody) (*d1.DatabaseImportResponse, error) {
		var p d1.DatabaseImportParams
		set(&p.AccountID, c.accountID)
		p.Body = b
		return svc.Import(ctx, id, p)
	}
	var init d1.DatabaseImportParamsBody
	set(&init.Action, d1.DatabaseImportParamsBodyAction("init"))
	set(&init.Etag, md5hex)
	res, err := imp(init)
	if err != nil {
		return D1ImportResult{}, failed(op, err)
	}
	if res.UploadURL == "" {
		return D1ImportResult{}, fmt.Errorf("cannot %s: init gave no upload URL", op)
	}
	filename := res.Filename
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, res.UploadURL, body)
	if err != nil {
		return D1ImportResult{}, fmt.Errorf("cannot %s: %w", op, err)
	}
	req.ContentLength = size
	up, err := transfers.Do(req)
	if err != nil {
		return D1ImportResult{}, fmt.Errorf("cannot %s: upload the file: %w", op, err)
	}
	msg, _ := io.ReadAll(io.LimitReader(up.Body, 512)) // for the message only
	up.Body.Close()
	if up.StatusCode != http.StatusOK {
		return D1ImportResult{}, fmt.Errorf("cannot %s: upload the file: %s: %s", op, up.Status, strings.TrimSpace(string(msg)))
	}
	var ingest d1.DatabaseImportParamsBody
	set(&ingest.Action, d1.DatabaseImportParamsBodyAction("ingest"))
	set(&ingest.Etag, md5hex)
	set(&ingest.Filename, filename)
	res, err = imp(ingest)
	if err != nil {
		return D1ImportResult{}, failed(op, err)
	}
	bookmark := res.AtBookmark
	for {
		switch res.Status {
		case "complete":
			if res.Result.FinalBookmark != "" {
				return D1ImportResult{NumQueries: int(res.Result.NumQueries), Bookmark: res.Result.FinalBookmark}, nil
			}
		case "error":
			return D1ImportResult{}, fmt.Errorf("cannot %s: %s (D1 ran none of it)", op, importError(res))
		}
		if bookmark == "" {
			return D1ImportResult{}, fmt.Errorf("cannot %s: no bookmark to poll", op)
		}
		var poll d1.DatabaseImportParamsBody
		set(&poll.Action, d1.DatabaseImportParamsBodyAction("poll"))
		set(&poll.CurrentBookmark, bookmark)
		if res, err = imp(poll); err != nil {
			return D1ImportResult{}, failed(op, err)
		}
		if res.Status == "active" {
			if err := sleepCtx(ctx, d1PollInterval); err != nil {
				return D1ImportResult{}, err
			}
		}
	}
}

func importError(res *d1.DatabaseImportResponse) string {
	if res.Error != "" {
		return res.Error
	}
	var v struct {
		Errors []string `json:"errors"`
	}
	if json.Unmarshal([]byte(res.JSON.RawJSON()), &v) == nil && len(v.Errors) > 0 {
		return strings.Join(v.Errors, "; ")
	}
	return "the import failed"
}

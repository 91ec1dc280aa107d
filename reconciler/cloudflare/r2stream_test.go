package cloudflare

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestConformanceR2UploadStreams. Upload: one PutObject for what fits in a chunk, a multipart upload for more, a wrong
// size hint is harmless, and a body that fails midway leaves nothing under the key.
func TestConformanceR2UploadStreams(t *testing.T) {
	_, r, streams := r2Conformance(t, "streams")
	ctx := t.Context()
	big := bytes.Repeat([]byte("0123456789abcdef"), (12<<20)/16+7) // 12 MiB and a bit: three chunks
	cases := []struct {
		name string
		body []byte
		hint int64
	}{
		{"multipart", big, 0},
		{"small", []byte("hello"), 0},
		{"exact hint", []byte("hello"), 5},
		{"hint too small", bytes.Repeat([]byte("x"), 1000), 10},
		{"hint too small, multipart", big, 100},
		{"empty", nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := r.Upload(ctx, streams, tc.name, bytes.NewReader(tc.body), UploadOptions{Chunk: MinUploadChunk, SizeHint: tc.hint, ContentType: "text/plain", Metadata: map[string]string{"k": "v"}})
			if err != nil {
				t.Fatal(err)
			}
			if obj.Size != int64(len(tc.body)) {
				t.Errorf("size %d, want %d", obj.Size, len(tc.body))
			}
			body, got, ctype, err := r.Open(ctx, streams, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(body)
			body.Close()
			if !bytes.Equal(b, tc.body) || ctype != "text/plain" || got.Metadata["k"] != "v" {
				t.Errorf("read back %d bytes, type %q, metadata %v", len(b), ctype, got.Metadata)
			}
		})
	}

	failing := io.MultiReader(bytes.NewReader(big[:7<<20]), errReader{errors.New("source went away")})
	if _, err := r.Upload(ctx, streams, "broken", failing, UploadOptions{Chunk: MinUploadChunk}); err == nil {
		t.Fatal("an upload whose body failed succeeded")
	}
	if _, err := r.Head(ctx, streams, "broken"); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("a failed upload left an object: %v", err)
	}
	if err := r.DeleteKeys(ctx, streams, []string{"small", "empty", "never-was"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Head(ctx, streams, "small"); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("DeleteKeys left the object: %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

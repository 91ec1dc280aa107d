package backup

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/monotask/flareops/emulator"
)

// An export that fails midway, a 5xx and a dropped connection during the upload leave no
// backup that List shows as complete; a rerun succeeds.
func TestFailedRunsLeaveNoCompleteBackup(t *testing.T) {
	tests := []struct {
		name  string
		fault func(f *fixture, cut *bool)
		want  string
	}{
		{"export cut midway", func(f *fixture, cut *bool) { *cut = true }, "download the dump"},
		{"5xx on upload", func(f *fixture, _ *bool) {
			f.srv.SetFaults(emulator.Faults{Routes: map[string]emulator.RouteFaults{"S3 PUT": {FailRate: 1}}})
		}, "InternalError"},
		{"dropped connection on upload", func(f *fixture, _ *bool) {
			f.srv.SetFaults(emulator.Faults{Routes: map[string]emulator.RouteFaults{"S3 PUT": {DropRate: 1}}})
		}, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cut := false
			f := newFixture(t, func(h http.Handler) http.Handler { return cutExports(h, &cut) })
			ctx := t.Context()
			secret, recipient := newIdentity(t)
			f.env.Identity = secret
			f.env.PartSize = 16 << 10
			f.seedD1("tasks", map[string]int{"tasks": 3000})
			job := f.job(SourceD1, "tasks", recipient)

			tt.fault(f, &cut)
			_, err := f.env.Run(ctx, job)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "no backup was recorded") {
				t.Fatalf("run with %s = %v, want an error with %q", tt.name, err, tt.want)
			}
			l, err := f.env.List(ctx, job)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Backups) != 0 {
				t.Fatalf("List shows %d complete backups after a failed run", len(l.Backups))
			}

			cut = false
			f.srv.SetFaults(emulator.Faults{})
			f.srv.Advance(2e9) // a rerun is a new backup id
			b, err := f.env.Run(ctx, job)
			if err != nil {
				t.Fatalf("rerun: %v", err)
			}
			if l, _ = f.env.List(ctx, job); len(l.Backups) != 1 || l.Backups[0].ID != b.ID {
				t.Fatalf("after the rerun List shows %+v", l.Backups)
			}
			if _, err := f.env.Verify(ctx, b); err != nil {
				t.Fatalf("verify the rerun: %v", err)
			}
		})
	}
}

// cutExports, while *cut, serves D1 export downloads with their full Content-Length but
// only half their bytes, then drops the connection: an export that fails midway.
func cutExports(h http.Handler, cut *bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !*cut || !strings.Contains(r.URL.Path, "/signed/d1-export/") {
			h.ServeHTTP(w, r)
			return
		}
		rec := &bufferWriter{header: http.Header{}}
		h.ServeHTTP(rec, r)
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		writeHalf(buf, rec)
		_ = conn.(*net.TCPConn).SetLinger(0)
	})
}

type bufferWriter struct {
	header http.Header
	status int
	body   []byte
}

func (b *bufferWriter) Header() http.Header { return b.header }
func (b *bufferWriter) WriteHeader(s int)   { b.status = s }
func (b *bufferWriter) Write(p []byte) (int, error) {
	b.body = append(b.body, p...)
	return len(p), nil
}

func writeHalf(w *bufio.ReadWriter, rec *bufferWriter) {
	w.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/sql\r\nContent-Length: " + strconv.Itoa(len(rec.body)) + "\r\n\r\n")
	w.Write(rec.body[:len(rec.body)/2])
	w.Flush()
}

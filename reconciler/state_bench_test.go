package reconciler

import (
	"fmt"
	"testing"
)

// BenchmarkLocalStatePut is the local-file state's cost per recorded change (a whole
// atomic rewrite with fsync), the path every apply without a backend block takes.
// Compare it across versions: remote state must not make it slower.
func BenchmarkLocalStatePut(b *testing.B) {
	dir := b.TempDir()
	t := Target{Kind: "account", AccountID: "0123456789abcdef0123456789abcdef", BaseURL: "https://x", Workspace: DefaultWorkspace}
	st, err := LoadState(dir, t)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if err := st.Put(fmt.Sprintf("queue.q%d", i), StateEntry{Kind: "queue", ID: fmt.Sprint(i), Key: fmt.Sprint("q", i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := st.Put("queue.q0", StateEntry{Kind: "queue", ID: fmt.Sprint(i), Key: "q0"}); err != nil {
			b.Fatal(err)
		}
	}
}

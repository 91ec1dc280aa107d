#!/usr/bin/env bash
# Rebuilds third_party/go-graphviz from a go-graphviz release in the module cache plus
# flareops's patch (third_party/go-graphviz.patch; why: third_party/go-graphviz/FLAREOPS.md).
# Usage: scripts/vendor-graphviz.sh [VERSION]   (default v0.2.10)
set -euo pipefail
version=${1:-v0.2.10}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && go mod init vendorgv >/dev/null 2>&1 && go mod download -json "github.com/goccy/go-graphviz@$version" >mod.json)
src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$tmp/mod.json")
[ -d "$src" ] || { echo "vendor-graphviz: no module directory for $version" >&2; exit 1; }
mkdir -p "$tmp/gv-orig"
(cd "$src" && find . -type f -name '*.go' ! -name '*_test.go' ! -path './_examples/*' ! -path './internal/wasm/build/*' -print0 |
	xargs -0 -I{} cp --parents {} "$tmp/gv-orig/")
cp "$src/LICENSE" "$src/README.md" "$src/go.mod" "$src/go.sum" "$tmp/gv-orig/"
cp "$src/internal/wasm/graphviz.wasm" "$tmp/gv-orig/internal/wasm/"
chmod -R u+w "$tmp/gv-orig"
cp -r "$tmp/gv-orig" "$tmp/gv-new"
(cd "$tmp/gv-new" && patch -s -p1 <"$root/third_party/go-graphviz.patch")
cp "$root/third_party/go-graphviz/FLAREOPS.md" "$tmp/gv-new/"
rm -rf "$root/third_party/go-graphviz"
cp -r "$tmp/gv-new" "$root/third_party/go-graphviz"
echo "third_party/go-graphviz: go-graphviz $version with flareops's patch"

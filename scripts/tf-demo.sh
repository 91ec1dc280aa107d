#!/usr/bin/env bash
# Plans and applies examples/monotask/terraform with OpenTofu (bin/tofu) and the flareops
# provider (bin/flareops) against the built-in local Cloudflare, then checks that a second
# plan is empty (exit 0 of `tofu plan -detailed-exitcode`). Run by `make tf-demo`.
# Works in a temporary directory: nothing is left in the repository.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'kill "${serve_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

mkdir -p "$work/plugins" "$work/cf" "$work/config"
cp "$root/bin/flareops" "$work/plugins/terraform-provider-flareops"
cp "$root"/examples/monotask/terraform/*.tf "$work/config/"
cat > "$work/dev.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "registry.opentofu.org/monotask/flareops" = "$work/plugins"
  }
  direct {}
}
CFG

port=$(( 20000 + RANDOM % 20000 ))
"$root/bin/flareops" local serve -listen "127.0.0.1:$port" -data "$work/cf" -pagerduty monotask-oncall > "$work/serve.log" &
serve_pid=$!
for _ in $(seq 50); do
	grep -q listening "$work/serve.log" 2>/dev/null && break
	sleep 0.1
done

export TF_CLI_CONFIG_FILE="$work/dev.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export CLOUDFLARE_BASE_URL="http://127.0.0.1:$port/client/v4"
export CLOUDFLARE_API_TOKEN=local CLOUDFLARE_ACCOUNT_ID=0123456789abcdef0123456789abcdef
# The Workers the example names are deployed with wrangler in real life; here, placeholders.
printf 'export default { async queue(batch) { batch.ackAll(); } };\n' > "$work/index.js"
for w in agent-worker-staging task-worker-staging github-worker-staging api-gateway-staging; do
	curl -fsS -o /dev/null -X PUT -H "Authorization: Bearer local" \
		-F 'metadata={"main_module":"index.js"};type=application/json' \
		-F "files=@$work/index.js;filename=index.js;type=application/javascript+module" \
		"$CLOUDFLARE_BASE_URL/accounts/$CLOUDFLARE_ACCOUNT_ID/workers/scripts/$w"
done
# So is the sandbox's containers application (flareops sizes it; it does not create it).
curl -fsS -o /dev/null -X POST -H "Authorization: Bearer local" -H "Content-Type: application/json" \
	-d '{"name":"monotask-staging-sandbox","scheduling_policy":"default","instances":0,"max_instances":5,"configuration":{"image":"registry.cloudflare.com/monotask/sandbox:1","instance_type":"basic"}}' \
	"$CLOUDFLARE_BASE_URL/accounts/$CLOUDFLARE_ACCOUNT_ID/containers/applications"
# And the sources of the backups (a D1 database, a KV namespace, a bucket) and the gateway's Logpush bucket.
api() { curl -fsS -o /dev/null -X POST -H "Authorization: Bearer local" -H "Content-Type: application/json" -d "$2" "$CLOUDFLARE_BASE_URL/accounts/$CLOUDFLARE_ACCOUNT_ID/$1"; }
api d1/database '{"name":"monotask-staging-db"}'
api storage/kv/namespaces '{"title":"monotask-staging-kv"}'
api r2/buckets '{"name":"monotask-staging-artifacts"}'
api r2/buckets '{"name":"monotask-staging-logs"}'
cd "$work/config"
echo "== tofu plan";   "$root/bin/tofu" plan -input=false -no-color
echo "== tofu apply";  "$root/bin/tofu" apply -input=false -auto-approve -no-color
echo "== tofu plan -detailed-exitcode (0: no changes)"
"$root/bin/tofu" plan -input=false -detailed-exitcode -no-color
echo "tf-demo: the second plan is empty"

#!/usr/bin/env bash
# Generates clients from the served OpenAPI description as a new integrator
# would, and uses them against a real server:
#   - openapi-python-client (PyPI): generation must warn about nothing, and
#     every call of client_check.py must succeed;
#   - openapi-typescript (npm): the types it makes must type-check with tsc
#     against client-check.ts, which uses them.
# Exits non-zero on any failure.
#
#   scripts/client-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import openapi_python_client' 2>/dev/null || python3 -m pip install -q 'openapi-python-client==0.29.*'
cargo build --quiet
. scripts/serve-lib.sh
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT

# No worker: the models stay PENDING, so cancel has something to cancel.
start_server --no-worker --webhook-allow-private
curl -fsS "$SERVER_URL/api/external/openapi.json" -o "$work/openapi.json"

echo "openapi-python-client"
(cd "$work" && python3 -m openapi_python_client generate --path openapi.json --meta none \
  --output-path mannequin_client) 2>&1 | tee "$work/generate.log"
if grep -qi 'warning\|error' "$work/generate.log"; then
  echo "openapi-python-client warned: the description leaves something out"
  exit 1
fi
PYTHONPATH="$work" python3 scripts/client_check.py "$SERVER_URL" "$SERVER_KEY"

echo "openapi-typescript + tsc"
(cd "$work" && npm init -y -q >/dev/null && npm install -q --no-audit --no-fund \
  openapi-typescript@7 typescript@5 >/dev/null 2>&1)
(cd "$work" && npx openapi-typescript openapi.json -o schema.d.ts)
cp scripts/client-check.ts "$work/check.ts"
(cd "$work" && npx tsc --noEmit --strict --target es2022 --module es2022 --moduleResolution bundler check.ts)
echo "client check: both clients work"

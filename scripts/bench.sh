#!/usr/bin/env bash
# `npm run bench [ipvs|desired|diff|agent|ipset]`: speed and memory figures (not tests; they print numbers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run --silent build
# ipset: the real kernel in a throw-away network namespace (root only), so a bench of its own.
if [ "${1:-}" = ipset ]; then exec node_modules/.bin/tsx bench/ipset-bench.ts; fi
node_modules/.bin/tsx bench/run.ts "$@"
if [ $# -eq 0 ]; then echo "== ipset =="; node_modules/.bin/tsx bench/ipset-bench.ts; fi

#!/usr/bin/env bash
# `npm run bench [ipvs|desired|diff|agent]`: speed and memory figures (not tests; they print numbers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run --silent build
exec node_modules/.bin/tsx bench/run.ts "$@"

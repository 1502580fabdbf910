#!/usr/bin/env bash
# `npm run soak [-- --duration 10m] [--seed N] [--grace 30s] [--lag 10s] [--max-services 150]`: the churn soak on the real kernel in the QEMU guest
# (test/guest/soak/): the agent against the API stand-in under continuous change while a kube-proxy
# stand-in follows with kube-proxy's lag. Prints its figures; exits non-zero on a confirmed finding,
# an unresolved pending finding or an error line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run --silent build
exec node_modules/.bin/tsx test/guest/soak/main.ts "$@"

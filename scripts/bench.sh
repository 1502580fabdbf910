#!/usr/bin/env bash
# `npm run bench [ipvs|ipvs-compare BASE [SERVICES] [ROUNDS]|desired|diff|metrics|agent|curve|state-file|render|ipset|iptables|conntrack]`: speed and memory figures (not tests; they print numbers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run --silent build
# ipset: the real kernel in a throw-away network namespace (root only), so a bench of its own.
if [ "${1:-}" = ipset ]; then exec node_modules/.bin/tsx bench/ipset-bench.ts; fi
# iptables: the real *-save tools in throw-away network namespaces (root only), likewise.
if [ "${1:-}" = iptables ]; then exec node_modules/.bin/tsx bench/iptables-bench.ts; fi
# conntrack: 100,000 TCP and 10,000 UDP entries in a throw-away network namespace (root only), likewise.
if [ "${1:-}" = conntrack ]; then exec node_modules/.bin/tsx bench/conntrack-bench.ts; fi
node_modules/.bin/tsx bench/run.ts "$@"
if [ $# -eq 0 ]; then echo "== ipset =="; node_modules/.bin/tsx bench/ipset-bench.ts; fi
if [ $# -eq 0 ]; then echo "== iptables =="; node_modules/.bin/tsx bench/iptables-bench.ts; fi
if [ $# -eq 0 ]; then echo "== conntrack =="; node_modules/.bin/tsx bench/conntrack-bench.ts; fi

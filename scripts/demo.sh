#!/usr/bin/env bash
# `npm run demo`: the agent against a real IPVS kernel. Installs what is missing, builds, boots the
# Debian IPVS guest under QEMU and runs scripts/demo-guest.sh inside it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run --silent build
exec node_modules/.bin/tsx scripts/demo.ts

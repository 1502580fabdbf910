# ipvs-sentinel: the per-node agent image.
#
#   buildah bud -t ipvs-sentinel .      (or: docker build -t ipvs-sentinel .)
#
# Two stages: a Node 24 build stage compiles TypeScript and prunes dev dependencies; the runtime
# stage is the official slim Node 24 image plus the two libnl libraries the agent calls through
# koffi and Debian's iptables package, and nothing else. scripts/image-build.sh proves this file
# with a real build against local stand-ins of both base images (passed through the two ARGs below).
ARG BUILD_IMAGE=node:24-bookworm
ARG RUNTIME_IMAGE=node:24-bookworm-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
ENV npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
# Dependencies first, so a source change does not repeat npm ci.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
# The build step that bundles the parts of client-node, prom-client and pino the agent loads (scripts/bundle.mjs).
COPY scripts/bundle.mjs ./scripts/
# Compile, drop dev dependencies, and strip what the runtime never loads: source maps and type
# declarations (about half of @kubernetes/client-node), koffi's C++ sources and its prebuilt
# binaries for other platforms (glibc Linux on x64 and arm64 stay, for both architectures).
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=error \
 && find dist node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete \
 && find node_modules/koffi/build/koffi -mindepth 1 -maxdepth 1 -type d \
      ! -name linux_x64 ! -name linux_arm64 -exec rm -rf {} + \
 && rm -rf node_modules/koffi/src node_modules/koffi/vendor node_modules/koffi/doc \
 && rm -f node_modules/.package-lock.json

FROM ${RUNTIME_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
# The repository URL; release builds pass --build-arg SOURCE=<url>.
ARG SOURCE=""
LABEL org.opencontainers.image.title="ipvs-sentinel" \
      org.opencontainers.image.description="Per-node checker that kube-proxy's IPVS table matches the Kubernetes API" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
# libnl: the agent's netlink sockets (IPVS generic netlink; the ipset and nftables table lists over
# NETLINK_NETFILTER). iptables: the four *-save tools of both backends, which the agent runs by
# explicit name to read kube-proxy's chains (src/iptables/run-save.ts). Keep it at least as new as
# the iptables of kube-proxy's image (kubernetes/release images/build/distroless-iptables: bookworm's
# 1.8.9): an older iptables-nft prints newer rules as different, shorter ones (kubernetes#112477), so
# move this base to trixie when kube-proxy's does; scripts/image-build.sh checks the version. No
# recommends: no nftables and no ipset binaries, the agent reads sets and tables over netlink.
# The base image's package managers (npm, npx, corepack, yarn) are removed: the agent installs
# nothing at run time. The entrypoint symlink is made here, before its target is copied, to save a
# layer.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libnl-3-200 libnl-genl-3-200 iptables \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
 && rm -f /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg \
 && ln -s /opt/ipvs-sentinel/bin/ipvs-sentinel.js /usr/local/bin/ipvs-sentinel
# A young generation of 2 × 4 MB: the agent's garbage is one poll's and one scrape's, and dies young
# (src/ipvs/reuse.ts); Node 24's default lets it grow to 2 × 32 MB, over 100 MB of RSS at 10,000
# Services for nothing. No --expose-gc: V8 refuses the code cache Node's own modules ship with when
# it is set, so every process and worker thread compiled them (a worker thread started 0.3 s later
# in the emulated guest, issue 17); serve sets it at run time for its heap compaction
# (src/agent/heap.ts). Both flags here leave that cache in use. Two V8 worker threads instead of
# four, and two malloc arenas instead of one per thread: each thread that allocates gets an arena of
# its own whose touched pages stay resident; ~3 MB less RSS at 100 Services and ~8 MB at 10,000,
# for no measurable CPU (`npm run bench curve`). `npm run bench agent` and `curve` run the agent
# with these same settings (read from here).
ENV MALLOC_ARENA_MAX=2 \
    NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=4 --v8-pool-size=2"
WORKDIR /opt/ipvs-sentinel
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
# V8's compile cache (bin/ipvs-sentinel.js keeps it in dist/.compile-cache) for the commands a person
# runs on the node in an incident: the root filesystem is read-only at run time, so it is written
# here. The commands fail without IPVS or a cluster, after loading what they run; that is all this needs.
RUN for command in "ipvs --output json" "modules" "check --grace 0s"; do ipvs-sentinel $command > /dev/null 2>&1; done; ls dist/.compile-cache > /dev/null
# Root on purpose: every IPVS and NETLINK_NETFILTER request, reads included, needs CAP_NET_ADMIN,
# and the *-save tools CAP_NET_RAW as well; a non-root process only gets them from file capabilities
# or ambient caps, which Kubernetes does not grant. The manifests run it as uid 0 with NET_ADMIN and
# NET_RAW only, a read-only root filesystem and no privilege escalation (README.md, Security).
USER 0:0
EXPOSE 9742
ENTRYPOINT ["ipvs-sentinel"]
CMD ["serve"]

// Runs inside the container image (test/guest/image.test.ts feeds it to the image's own node on
// stdin, chrooted, with the DaemonSet's capabilities or fewer): the agent's own netfilter reads from
// the image's dist/ — kube-proxy's ipsets and the nftables table list over NETLINK_NETFILTER, and
// the iptables read, which runs the image's *-save tools — printed as one JSON line. A refused read
// is reported by its error code and line, never thrown.
const DIST = '/opt/ipvs-sentinel/dist';
const { readIpsets, readIpset } = await import(`${DIST}/ipset/reader.js`);
const { ipsetEntryText } = await import(`${DIST}/ipset/entry.js`);
const { readNftTables } = await import(`${DIST}/nftables/reader.js`);
const { readIptables } = await import(`${DIST}/iptables/read.js`);

function refused(error) {
  return { ok: false, code: error.code ?? null, line: typeof error.toLine === 'function' ? error.toLine() : String(error) };
}

function ipsets() {
  try {
    const names = readIpsets({ headersOnly: true })
      .sets.map((s) => s.name)
      .filter((n) => n.startsWith('KUBE-'));
    const clusterIp = readIpset('KUBE-CLUSTER-IP');
    return { ok: true, names, clusterIp: clusterIp === null ? null : clusterIp.entries.map(ipsetEntryText) };
  } catch (error) {
    return refused(error);
  }
}

function nftTables() {
  try {
    return { ok: true, tables: readNftTables().tables.map((t) => ({ family: t.family, name: t.name, use: t.use })) };
  } catch (error) {
    return refused(error);
  }
}

function backendRead(read) {
  switch (read.state) {
    case 'absent':
      return { state: 'absent' };
    case 'failed':
      return { state: 'failed', code: read.error.code, line: read.error.toLine() };
    case 'read': {
      const { dump } = read.result;
      const sets = new Set([...dump.tables.values()].flatMap((t) => t.rules.flatMap((r) => r.sets.map((s) => s.name))));
      return { state: 'read', tool: read.result.tool, tables: [...dump.tables.keys()].sort(), sets: [...sets].sort() };
    }
  }
}

const sets = ipsets();
const tables = nftTables();
// As the agent does: the nft tools only when the table list says nf_tables holds tables.
const observation = await readIptables({ nftTables: tables.ok ? tables.tables : null });
const iptables = {
  legacy: { inet: backendRead(observation.legacy.inet), inet6: backendRead(observation.legacy.inet6) },
  nft: { inet: backendRead(observation.nft.inet), inet6: backendRead(observation.nft.inet6) },
  expected: observation.decision.expected,
  reason: observation.decision.reason,
};
process.stdout.write(`${JSON.stringify({ ipsets: sets, nftTables: tables, iptables })}\n`);

// The IPVS generic-netlink family of a kernel holding the host bench's synthetic table, answered in
// process so the agent's real IpvsReader and decoder run at scale on a machine without IPVS.
// Replies are byte-for-byte what ip_vs_genl_fill_service / ip_vs_genl_fill_dest produce (attribute
// order, widths, STATS then STATS64), packed into datagrams of up to 32 KiB like a netlink dump.
//
// Traffic: every `busyEvery`-th real server (and so every virtual server holding one) sees packets
// between two reads — its counters move at each GET_INFO, i.e. each read — while the others are idle.
// That is what keeps the bench honest about the reader sharing unchanged objects between reads.
import { encodeAttributes, parseAttributes, stringAttr, u16Attr, u16BeAttr, u32Attr, u64Attr } from '../dist/netlink/attributes.js';
import { IPVS_CMD, IPVS_CMD_ATTR, IPVS_DEST_ATTR, IPVS_STATS_ATTR, IPVS_SVC_ATTR } from '../dist/ipvs/constants.js';

const FAMILY_ID = 0x1c;
const LOCAL_PORT = 4242;
const DATAGRAM_BYTES = 32 * 1024;
const NLM_F_MULTI = 0x2;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;

// Same numbering as test/guest/standin-server.ts's synthetic cluster and bench/agent-host.mjs.
export const clusterIpBytes = (i) => [10, 100 + (i >> 16), (i >> 8) & 255, i & 255];
export const podIpBytes = (k) => [10, 128 + (k >> 16), (k >> 8) & 255, k & 255];

/** Every counter type of a stats nest, in the kernel's order (ip_vs_genl_fill_stats64). */
const STAT_TYPES = Object.values(IPVS_STATS_ATTR).filter((type) => type !== IPVS_STATS_ATTR.PAD);
const isByteCounter = (type) => type === IPVS_STATS_ATTR.INBYTES || type === IPVS_STATS_ATTR.OUTBYTES;

/** STATS (u32 values but the two u64 byte counters) then STATS64, all zero: the counters are patched in. */
function statsNests(stats32, stats64) {
  return [
    { type: stats32, nested: STAT_TYPES.map((type) => (isByteCounter(type) ? u64Attr(type, 0n) : u32Attr(type, 0))) },
    { type: stats64, nested: STAT_TYPES.map((type) => u64Attr(type, 0n)) },
  ];
}

const addr16 = (bytes) => {
  const out = new Uint8Array(16);
  out.set(bytes);
  return out;
};

function serviceAttributes(i) {
  const flags = new Uint8Array(8);
  new DataView(flags.buffer).setUint32(0, 0x2, true);
  new DataView(flags.buffer).setUint32(4, 0xffffffff, true);
  return encodeAttributes(
    [
      {
        type: IPVS_CMD_ATTR.SERVICE,
        nested: [
          u16Attr(IPVS_SVC_ATTR.AF, 2),
          u16Attr(IPVS_SVC_ATTR.PROTOCOL, 6),
          { type: IPVS_SVC_ATTR.ADDR, data: addr16(clusterIpBytes(i)) },
          u16BeAttr(IPVS_SVC_ATTR.PORT, 80),
          stringAttr(IPVS_SVC_ATTR.SCHED_NAME, 'rr'),
          { type: IPVS_SVC_ATTR.FLAGS, data: flags },
          u32Attr(IPVS_SVC_ATTR.TIMEOUT, 0),
          { type: IPVS_SVC_ATTR.NETMASK, data: Uint8Array.of(255, 255, 255, 255) },
          ...statsNests(IPVS_SVC_ATTR.STATS, IPVS_SVC_ATTR.STATS64),
        ],
      },
    ],
    false,
  );
}

function destAttributes(addressBytes) {
  return encodeAttributes(
    [
      {
        type: IPVS_CMD_ATTR.DEST,
        nested: [
          { type: IPVS_DEST_ATTR.ADDR, data: addr16(addressBytes) },
          u16BeAttr(IPVS_DEST_ATTR.PORT, 8080),
          u32Attr(IPVS_DEST_ATTR.FWD_METHOD, 0),
          u32Attr(IPVS_DEST_ATTR.WEIGHT, 1),
          { type: IPVS_DEST_ATTR.TUN_TYPE, data: Uint8Array.of(0) },
          u16BeAttr(IPVS_DEST_ATTR.TUN_PORT, 0),
          u16Attr(IPVS_DEST_ATTR.TUN_FLAGS, 0),
          u32Attr(IPVS_DEST_ATTR.U_THRESH, 0),
          u32Attr(IPVS_DEST_ATTR.L_THRESH, 0),
          u32Attr(IPVS_DEST_ATTR.ACTIVE_CONNS, 0),
          u32Attr(IPVS_DEST_ATTR.INACT_CONNS, 0),
          u32Attr(IPVS_DEST_ATTR.PERSIST_CONNS, 0),
          u16Attr(IPVS_DEST_ATTR.ADDR_FAMILY, 2),
          ...statsNests(IPVS_DEST_ATTR.STATS, IPVS_DEST_ATTR.STATS64),
        ],
      },
    ],
    false,
  );
}

/** Where each value sits in an encoded message, found by parsing it back: patched in place per reply. */
function patchPoints(attributes) {
  const [top] = parseAttributes(attributes, 'scale kernel template');
  const inner = parseAttributes(top.data, 'scale kernel template');
  const at = (attr) => attr.data.byteOffset - attributes.byteOffset;
  const points = { address: -1, activeConns: -1, stats32: new Map(), stats64: new Map() };
  for (const attr of inner) {
    if (attr.type === IPVS_SVC_ATTR.ADDR && top.type === IPVS_CMD_ATTR.SERVICE) points.address = at(attr);
    if (attr.type === IPVS_DEST_ATTR.ADDR && top.type === IPVS_CMD_ATTR.DEST) points.address = at(attr);
    if (attr.type === IPVS_DEST_ATTR.ACTIVE_CONNS && top.type === IPVS_CMD_ATTR.DEST) points.activeConns = at(attr);
    const stats32 = top.type === IPVS_CMD_ATTR.SERVICE ? IPVS_SVC_ATTR.STATS : IPVS_DEST_ATTR.STATS;
    const stats64 = top.type === IPVS_CMD_ATTR.SERVICE ? IPVS_SVC_ATTR.STATS64 : IPVS_DEST_ATTR.STATS64;
    if (attr.type === stats32 || attr.type === stats64) {
      for (const stat of parseAttributes(attr.data, 'scale kernel template')) (attr.type === stats32 ? points.stats32 : points.stats64).set(stat.type, at(stat));
    }
  }
  return points;
}

/**
 * Fixed-size messages of one template each, written datagram by datagram into `buffer` (the
 * receiving socket's one reused buffer, as libnl's recv fills it) when the reader asks; then DONE.
 */
function* dump(buffer, seq, cmd, template, count, patch) {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const attrs = template.byteLength;
  const len = 16 + 4 + attrs;
  const size = (len + 3) & ~3;
  const perDatagram = Math.max(1, Math.floor(DATAGRAM_BYTES / size));
  for (let first = 0; first < count; first += perDatagram) {
    const n = Math.min(perDatagram, count - first);
    buffer.fill(0, 0, n * size);
    for (let m = 0; m < n; m++) {
      const o = m * size;
      view.setUint32(o, len, true);
      view.setUint16(o + 4, FAMILY_ID, true);
      view.setUint16(o + 6, NLM_F_MULTI, true);
      view.setUint32(o + 8, seq, true);
      view.setUint32(o + 12, LOCAL_PORT, true);
      buffer[o + 16] = cmd;
      buffer[o + 17] = 1;
      buffer.set(template, o + 20);
      patch(buffer, view, o + 20, first + m);
    }
    yield buffer.subarray(0, n * size);
  }
  yield status(seq, NLMSG_DONE, 0);
}

function message(type, flags, seq, payload) {
  const len = 16 + payload.byteLength;
  const out = new Uint8Array((len + 3) & ~3);
  const view = new DataView(out.buffer);
  view.setUint32(0, len, true);
  view.setUint16(4, type, true);
  view.setUint16(6, flags, true);
  view.setUint32(8, seq, true);
  view.setUint32(12, LOCAL_PORT, true);
  out.set(payload, 16);
  return out;
}

function genl(cmd, seq, attributes) {
  const payload = new Uint8Array(4 + attributes.byteLength);
  payload[0] = cmd;
  payload[1] = 1;
  payload.set(attributes, 4);
  return message(FAMILY_ID, 0, seq, payload);
}

function status(seq, type, value) {
  const payload = new Uint8Array(type === NLMSG_ERROR ? 20 : 4);
  new DataView(payload.buffer).setInt32(0, value, true);
  return message(type, type === NLMSG_DONE ? NLM_F_MULTI : 0x100, seq, payload);
}

/**
 * `open()` returns a GenericNetlinkSocket (src/netlink/libnl.ts) over the table of `services`
 * virtual servers TCP/<clusterIp(i)>:80 with `endpoints` real servers <podIp(i*endpoints+j)>:8080.
 */
export function scaleKernel({ services, endpoints, busyEvery = 10 }) {
  let reads = 0;
  const busy = (k) => busyEvery > 0 && k % busyEvery === 0;
  // Counters of an object with `n` busy real servers behind it, after `reads` intervals of traffic.
  const counters = (n) => {
    const r = BigInt(reads);
    return [
      [IPVS_STATS_ATTR.CONNS, r * n],
      [IPVS_STATS_ATTR.INPKTS, 10n * r * n],
      [IPVS_STATS_ATTR.OUTPKTS, 9n * r * n],
      [IPVS_STATS_ATTR.INBYTES, 1500n * r * n],
      [IPVS_STATS_ATTR.OUTBYTES, 900n * r * n],
      [IPVS_STATS_ATTR.CPS, n],
      [IPVS_STATS_ATTR.INPPS, 10n * n],
      [IPVS_STATS_ATTR.OUTPPS, 9n * n],
      [IPVS_STATS_ATTR.INBPS, 1500n * n],
      [IPVS_STATS_ATTR.OUTBPS, 900n * n],
    ];
  };
  const writeCounters = (view, base, points, n) => {
    for (const [type, value] of counters(n)) {
      const narrow = points.stats32.get(type);
      if (isByteCounter(type)) view.setBigUint64(base + narrow, value, true);
      else view.setUint32(base + narrow, Number(BigInt.asUintN(32, value)), true);
      view.setBigUint64(base + points.stats64.get(type), value, true);
    }
  };
  const serviceTemplate = serviceAttributes(0);
  const servicePoints = patchPoints(serviceTemplate);
  const destTemplate = destAttributes([0, 0, 0, 0]);
  const destPoints = patchPoints(destTemplate);
  const busyIn = (i) => {
    let n = 0n;
    for (let j = 0; j < endpoints; j++) if (busy(i * endpoints + j)) n++;
    return n;
  };

  const answer = (buffer, seq, cmd, attributes) => {
    switch (cmd) {
      case IPVS_CMD.GET_INFO:
        reads++;
        return [genl(IPVS_CMD.SET_INFO, seq, encodeAttributes([u32Attr(1, 0x010201), u32Attr(2, 4096)], false)), status(seq, NLMSG_ERROR, 0)];
      case IPVS_CMD.GET_CONFIG:
        return [
          genl(IPVS_CMD.SET_CONFIG, seq, encodeAttributes([u32Attr(IPVS_CMD_ATTR.TIMEOUT_TCP, 900), u32Attr(IPVS_CMD_ATTR.TIMEOUT_TCP_FIN, 120), u32Attr(IPVS_CMD_ATTR.TIMEOUT_UDP, 300)], false)),
          status(seq, NLMSG_ERROR, 0),
        ];
      case IPVS_CMD.GET_SERVICE:
        return dump(buffer, seq, IPVS_CMD.NEW_SERVICE, serviceTemplate, services, (d, view, base, i) => {
          d.set(clusterIpBytes(i), base + servicePoints.address);
          const n = busyIn(i);
          if (n > 0n) writeCounters(view, base, servicePoints, n);
        });
      case IPVS_CMD.GET_DEST: {
        // The identity nest: AF (8 bytes), PROTOCOL (8), then ADDR whose first 4 bytes are the IPv4 address.
        const a = attributes.subarray(4 + 8 + 8 + 4, 4 + 8 + 8 + 8);
        const i = ((a[1] - 100) << 16) | (a[2] << 8) | a[3];
        return dump(buffer, seq, IPVS_CMD.NEW_DEST, destTemplate, endpoints, (d, view, base, j) => {
          const k = i * endpoints + j;
          d.set(podIpBytes(k), base + destPoints.address);
          if (busy(k)) {
            view.setUint32(base + destPoints.activeConns, 1, true);
            writeCounters(view, base, destPoints, 1n);
          }
        });
      }
      default:
        return [status(seq, NLMSG_ERROR, -95)];
    }
  };

  return {
    open() {
      const buffer = new Uint8Array(64 * 1024);
      let replies = [][Symbol.iterator]();
      return {
        localPort: LOCAL_PORT,
        resolveFamily: (name) => (name === 'IPVS' ? FAMILY_ID : null),
        send(bytes) {
          const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          replies = answer(buffer, view.getUint32(8, true), bytes[16], bytes.subarray(20))[Symbol.iterator]();
        },
        receive() {
          const next = replies.next();
          if (next.done) throw new Error('scale kernel: nothing queued');
          return next.value;
        },
        close() {
          replies = [][Symbol.iterator]();
        },
      };
    },
  };
}

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
/** The same addresses as one big-endian u32, written without an array per message. */
const clusterIpValue = (i) => ((10 << 24) | ((100 + (i >> 16)) << 16) | (((i >> 8) & 255) << 8) | (i & 255)) >>> 0;
const podIpValue = (k) => ((10 << 24) | ((128 + (k >> 16)) << 16) | (((k >> 8) & 255) << 8) | (k & 255)) >>> 0;

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
 * Messages of one size, each a copy of a prepared message (header, genl header, attributes and
 * padding, as `messageOf(i)` gives it for message i) with its sequence number and address written
 * in, datagram by datagram into `buffer` (the receiving socket's one reused buffer, as libnl's recv
 * fills it) when the reader asks; then DONE, in the same buffer. Like the kernel, it makes no
 * JavaScript object per message: the bench's CPU and garbage are the agent's.
 */
class Dump {
  constructor(buffer) {
    this.buffer = buffer;
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    this.done = true;
  }

  /**
   * `count` messages of `size` bytes, message i `messageOf(base + i)` with the u32 address
   * `addressOf(base + i)` at `addressAt`.
   */
  start(seq, size, count, messageOf, addressAt, addressOf, base = 0) {
    this.seq = seq;
    this.base = base;
    this.size = size;
    this.count = count;
    this.messageOf = messageOf;
    this.addressAt = addressAt;
    this.addressOf = addressOf;
    this.perDatagram = Math.max(1, Math.floor(DATAGRAM_BYTES / size));
    this.first = 0;
    this.done = false;
  }

  next() {
    const { buffer, view, size } = this;
    if (this.first >= this.count) {
      this.done = true;
      // NLMSG_DONE: a header and a zero status (what status(seq, NLMSG_DONE, 0) encodes).
      buffer.fill(0, 0, 20);
      view.setUint32(0, 20, true);
      view.setUint16(4, NLMSG_DONE, true);
      view.setUint16(6, NLM_F_MULTI, true);
      view.setUint32(8, this.seq, true);
      view.setUint32(12, LOCAL_PORT, true);
      return buffer.subarray(0, 20);
    }
    const n = Math.min(this.perDatagram, this.count - this.first);
    for (let m = 0; m < n; m++) {
      const o = m * size;
      const k = this.base + this.first + m;
      buffer.set(this.messageOf(k), o);
      view.setUint32(o + 8, this.seq, true);
      view.setUint32(o + this.addressAt, this.addressOf(k), false);
    }
    this.first += n;
    return buffer.subarray(0, n * size);
  }
}

/** A whole NEW_SERVICE / NEW_DEST message around `attributes` (sequence number 0, padded to 4 bytes). */
function dumpMessage(cmd, attributes) {
  const len = 16 + 4 + attributes.byteLength;
  const out = new Uint8Array((len + 3) & ~3);
  const view = new DataView(out.buffer);
  view.setUint32(0, len, true);
  view.setUint16(4, FAMILY_ID, true);
  view.setUint16(6, NLM_F_MULTI, true);
  view.setUint32(12, LOCAL_PORT, true);
  out[16] = cmd;
  out[17] = 1;
  out.set(attributes, 20);
  return out;
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
  /** `template` (attributes) with the counters of `n` busy real servers and, for a destination, one active connection. */
  const withTraffic = (template, points, n) => {
    const out = template.slice();
    const view = new DataView(out.buffer);
    if (points.activeConns >= 0) view.setUint32(points.activeConns, 1, true);
    for (const [type, value] of counters(BigInt(n))) {
      if (isByteCounter(type)) view.setBigUint64(points.stats32.get(type), value, true);
      else view.setUint32(points.stats32.get(type), Number(BigInt.asUintN(32, value)), true);
      view.setBigUint64(points.stats64.get(type), value, true);
    }
    return out;
  };
  const serviceTemplate = serviceAttributes(0);
  const servicePoints = patchPoints(serviceTemplate);
  const destTemplate = destAttributes([0, 0, 0, 0]);
  const destPoints = patchPoints(destTemplate);
  const busyIn = (i) => {
    let n = 0;
    for (let j = 0; j < endpoints; j++) if (busy(i * endpoints + j)) n++;
    return n;
  };
  // The messages of this read: idle ones never change, busy ones carry this read's counters.
  const idleService = dumpMessage(IPVS_CMD.NEW_SERVICE, serviceTemplate);
  const idleDest = dumpMessage(IPVS_CMD.NEW_DEST, destTemplate);
  let busyDest = idleDest;
  const busyServices = new Map();
  const destMessage = (k) => (busy(k) ? busyDest : idleDest);
  const serviceMessage = (i) => {
    const n = busyIn(i);
    if (n === 0) return idleService;
    if (!busyServices.has(n)) busyServices.set(n, dumpMessage(IPVS_CMD.NEW_SERVICE, withTraffic(serviceTemplate, servicePoints, n)));
    return busyServices.get(n);
  };

  const answer = (dump, seq, cmd, attributes) => {
    switch (cmd) {
      case IPVS_CMD.GET_INFO:
        reads++;
        busyDest = dumpMessage(IPVS_CMD.NEW_DEST, withTraffic(destTemplate, destPoints, 1));
        busyServices.clear();
        return [genl(IPVS_CMD.SET_INFO, seq, encodeAttributes([u32Attr(1, 0x010201), u32Attr(2, 4096)], false)), status(seq, NLMSG_ERROR, 0)];
      case IPVS_CMD.GET_CONFIG:
        return [
          genl(IPVS_CMD.SET_CONFIG, seq, encodeAttributes([u32Attr(IPVS_CMD_ATTR.TIMEOUT_TCP, 900), u32Attr(IPVS_CMD_ATTR.TIMEOUT_TCP_FIN, 120), u32Attr(IPVS_CMD_ATTR.TIMEOUT_UDP, 300)], false)),
          status(seq, NLMSG_ERROR, 0),
        ];
      case IPVS_CMD.GET_SERVICE:
        dump.start(seq, idleService.byteLength, services, serviceMessage, 20 + servicePoints.address, clusterIpValue);
        return null;
      case IPVS_CMD.GET_DEST: {
        // The identity nest: AF (8 bytes), PROTOCOL (8), then ADDR whose first 4 bytes are the IPv4 address.
        const a = attributes.subarray(4 + 8 + 8 + 4, 4 + 8 + 8 + 8);
        const base = (((a[1] - 100) << 16) | (a[2] << 8) | a[3]) * endpoints;
        dump.start(seq, idleDest.byteLength, endpoints, destMessage, 20 + destPoints.address, podIpValue, base);
        return null;
      }
      default:
        return [status(seq, NLMSG_ERROR, -95)];
    }
  };

  return {
    open() {
      const dump = new Dump(new Uint8Array(64 * 1024));
      let replies = [];
      return {
        localPort: LOCAL_PORT,
        resolveFamily: (name) => (name === 'IPVS' ? FAMILY_ID : null),
        send(bytes) {
          const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          replies = answer(dump, view.getUint32(8, true), bytes[16], bytes.subarray(20)) ?? [];
        },
        receive() {
          if (!dump.done) return dump.next();
          const next = replies.shift();
          if (next === undefined) throw new Error('scale kernel: nothing queued');
          return next;
        },
        close() {
          replies = [];
          dump.done = true;
        },
      };
    },
  };
}

/**
 * ctnetlink reply messages built by hand, as ctnetlink_fill_info (net/netfilter/nf_conntrack_netlink.c)
 * writes them: nfgenmsg, CTA_TUPLE_ORIG, CTA_TUPLE_REPLY, CTA_STATUS, CTA_TIMEOUT, … — for bounds,
 * fallbacks and round-trip properties the recorded fixtures cannot reach.
 */
import { encodeAttributes, u16BeAttr, type AttrSpec } from '../../../src/netlink/attributes.js';
import { NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR } from '../../../src/netlink/message.js';
import { nfnlMessageType } from '../../../src/netlink/nfnetlink.js';
import { AF_INET, AF_INET6, CTA, CTA_IP, CTA_PROTO, CTA_TUPLE, IPCTNL_MSG_CT_NEW, NFNL_SUBSYS_CTNETLINK } from '../../../src/conntrack/constants.js';
import type { ConntrackTuple } from '../../../src/conntrack/types.js';
import { parseIPv4, parseIPv6 } from '../../../src/util/ip.js';

export interface EntrySpec {
  family: 'inet' | 'inet6';
  protocol: number;
  original: ConntrackTuple;
  reply: ConntrackTuple;
  timeout?: number;
  zone?: number;
  /** CTA_STATUS; default what the kernel reports of a confirmed, NATed, assured entry (0x18e). */
  status?: number;
}

function address(family: EntrySpec['family'], text: string): Uint8Array {
  const bytes = family === 'inet' ? parseIPv4(text) : parseIPv6(text);
  if (bytes === null) throw new Error(`not an address: ${text}`);
  return bytes;
}

function tuple(type: number, family: EntrySpec['family'], protocol: number, t: ConntrackTuple): AttrSpec {
  const v4 = family === 'inet';
  return {
    type,
    nested: [
      {
        type: CTA_TUPLE.IP,
        nested: [
          { type: v4 ? CTA_IP.V4_SRC : CTA_IP.V6_SRC, data: address(family, t.src) },
          { type: v4 ? CTA_IP.V4_DST : CTA_IP.V6_DST, data: address(family, t.dst) },
        ],
      },
      { type: CTA_TUPLE.PROTO, nested: [{ type: CTA_PROTO.NUM, data: Uint8Array.of(protocol) }, u16BeAttr(CTA_PROTO.SRC_PORT, t.srcPort), u16BeAttr(CTA_PROTO.DST_PORT, t.dstPort)] },
    ],
  };
}

function be32(type: number, value: number): AttrSpec {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, value, false);
  return { type, data };
}

function message(type: number, flags: number, seq: number, pid: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, out.byteLength, true);
  view.setUint16(4, type, true);
  view.setUint16(6, flags, true);
  view.setUint32(8, seq, true);
  view.setUint32(12, pid, true);
  out.set(payload, 16);
  return out;
}

/** The payload after the netlink header: nfgenmsg and the entry's attributes. */
export function entryPayload(spec: EntrySpec): Uint8Array {
  const attrs: AttrSpec[] = [tuple(CTA.TUPLE_ORIG, spec.family, spec.protocol, spec.original), tuple(CTA.TUPLE_REPLY, spec.family, spec.protocol, spec.reply), be32(CTA.STATUS, spec.status ?? 0x18e)];
  if (spec.timeout !== undefined) attrs.push(be32(CTA.TIMEOUT, spec.timeout));
  if (spec.zone !== undefined) attrs.push(u16BeAttr(CTA.ZONE, spec.zone));
  const body = encodeAttributes(attrs);
  const out = new Uint8Array(4 + body.byteLength);
  out[0] = spec.family === 'inet' ? AF_INET : AF_INET6;
  out.set(body, 4);
  return out;
}

export function entryMessage(spec: EntrySpec, seq: number, pid: number): Uint8Array {
  return message(nfnlMessageType(NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_NEW), NLM_F_MULTI, seq, pid, entryPayload(spec));
}

export function doneMessage(seq: number, pid: number): Uint8Array {
  return message(NLMSG_DONE, NLM_F_MULTI, seq, pid, new Uint8Array(4));
}

export function errorMessage(errno: number, seq: number, pid: number): Uint8Array {
  const payload = new Uint8Array(20);
  new DataView(payload.buffer).setInt32(0, -errno, true);
  return message(NLMSG_ERROR, 0, seq, pid, payload);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** A UDP flow to a Service address, DNATed to an endpoint. */
export function udpFlow(client: string, sport: number, service: string, dport: number, endpoint: string, eport: number, family: EntrySpec['family'] = 'inet'): EntrySpec {
  return {
    family,
    protocol: 17,
    original: { src: client, dst: service, srcPort: sport, dstPort: dport },
    reply: { src: endpoint, dst: client, srcPort: eport, dstPort: sport },
    timeout: 30,
  };
}

export function tcpFlow(i: number): EntrySpec {
  return {
    family: 'inet',
    protocol: 6,
    original: { src: '10.0.2.15', dst: '10.96.0.1', srcPort: 20000 + (i % 40000), dstPort: 443 },
    reply: { src: '10.0.2.15', dst: '10.0.2.15', srcPort: 6443, dstPort: 20000 + (i % 40000) },
    timeout: 3600,
  };
}

/**
 * A fake of the kernel's IPVS generic-netlink family at the message level, as mdlayher/netlink's nltest fakes netlink: sockets
 * implementing GenericNetlinkSocket whose requests are answered from an in-memory table with the
 * byte builders of ipvs-messages.ts — GET_SERVICE / GET_DEST dumps in batches ending with
 * NLMSG_DONE, GET_INFO / GET_CONFIG followed by an ACK, ENOENT for a stale family id, an empty dump
 * for an unknown service identity. `script` entries answer (or break) individual requests.
 */
import type { GenericNetlinkSocket } from '../../src/netlink/libnl.js';
import { encodeAttributes, parseAttributes, u32Attr } from '../../src/netlink/attributes.js';
import { IPVS_CMD, IPVS_CMD_ATTR, IPVS_SVC_ATTR } from '../../src/ipvs/constants.js';
import { datagram, destMessage, doneMessage, errorMessage, genlMessage, serviceAttrs, serviceMessage, type DestSpec, type ServiceSpec } from './ipvs-messages.js';

export interface FakeService {
  service: ServiceSpec;
  destinations?: DestSpec[];
}

export interface FakeTable {
  services: FakeService[];
  /** IP_VS_VERSION_CODE; default 0x010201. */
  version?: number;
  connTableSize?: number;
  timeouts?: { tcp?: number; tcpFin?: number; udp?: number };
}

export interface FakeRequest {
  socket: FakeSocket;
  type: number;
  flags: number;
  seq: number;
  pid: number;
  cmd: number;
  /** The raw attributes after the genl header. */
  attributes: Uint8Array;
}

/** A reply: datagrams to queue, or an Error that receive() throws when it gets there. */
export type Reply = (Uint8Array | Error)[];

/** Answers a request instead of the table (return undefined to pass). Each entry is used once. */
export type ScriptEntry = (request: FakeRequest, normal: () => Reply) => Reply | undefined;

export class FakeSocket implements GenericNetlinkSocket {
  readonly queue: (Uint8Array | Error)[] = [];
  closed = false;
  resolveCalls = 0;

  constructor(
    private readonly kernel: FakeIpvsKernel,
    readonly localPort: number,
  ) {}

  resolveFamily(name: string): number | null {
    this.assertOpen();
    this.resolveCalls++;
    if (name !== 'IPVS') throw new Error(`fake kernel: unexpected family ${name}`);
    return this.kernel.loaded ? this.kernel.familyId : null;
  }

  send(bytes: Uint8Array): void {
    this.assertOpen();
    this.queue.push(...this.kernel.handle(this, bytes));
  }

  receive(): Uint8Array {
    this.assertOpen();
    const next = this.queue.shift();
    if (next === undefined) throw new Error('fake kernel: receive() with no reply queued (the reader waits for something that never comes)');
    if (next instanceof Error) throw next;
    return next;
  }

  close(): void {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('fake kernel: socket used after close()');
  }
}

export class FakeIpvsKernel {
  familyId = 0x1c;
  loaded = true;
  /** The table a GET_SERVICE dump sees; a function of the 0-based dump count lets it change between dumps. */
  table: FakeTable | ((serviceDump: number) => FakeTable);
  /** Data messages per datagram. */
  batchSize = 2;
  /** Put NLMSG_DONE in the datagram of the last batch instead of alone. */
  doneWithData = false;
  script: ScriptEntry[] = [];
  readonly sockets: FakeSocket[] = [];
  readonly requests: FakeRequest[] = [];
  serviceDumps = 0;
  private current: FakeTable;

  constructor(table: FakeTable | ((serviceDump: number) => FakeTable) = { services: [] }) {
    this.table = table;
    this.current = typeof table === 'function' ? table(0) : table;
  }

  readonly open = (): FakeSocket => {
    const socket = new FakeSocket(this, 4000 + this.sockets.length);
    this.sockets.push(socket);
    return socket;
  };

  get lastSocket(): FakeSocket | undefined {
    return this.sockets.at(-1);
  }

  commands(): number[] {
    return this.requests.map((r) => r.cmd);
  }

  handle(socket: FakeSocket, bytes: Uint8Array): Reply {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const len = view.getUint32(0, true);
    if (len !== bytes.byteLength) throw new Error(`fake kernel: nlmsg_len ${len} but ${bytes.byteLength} bytes sent`);
    const request: FakeRequest = {
      socket,
      type: view.getUint16(4, true),
      flags: view.getUint16(6, true),
      seq: view.getUint32(8, true),
      pid: view.getUint32(12, true),
      cmd: bytes[16] ?? 0,
      attributes: bytes.subarray(20),
    };
    if ((request.flags & 0x1) === 0) throw new Error('fake kernel: request without NLM_F_REQUEST (the real kernel ignores it)');
    this.requests.push(request);
    const normal = (): Reply => this.answer(request);
    for (let i = 0; i < this.script.length; i++) {
      const reply = this.script[i]?.(request, normal);
      if (reply !== undefined) {
        this.script.splice(i, 1);
        return reply;
      }
    }
    return normal();
  }

  private answer(req: FakeRequest): Reply {
    const pid = req.socket.localPort;
    if (req.type !== this.familyId || !this.loaded) return [errorMessage(req.seq, pid, 2)]; // ENOENT: stale id
    const dump = (req.flags & 0x300) === 0x300;
    const header = { type: this.familyId, seq: req.seq, pid };
    switch (req.cmd) {
      case IPVS_CMD.GET_SERVICE: {
        if (!dump) throw new Error('fake kernel: GET_SERVICE doit is not modelled');
        this.current = typeof this.table === 'function' ? this.table(this.serviceDumps) : this.table;
        this.serviceDumps++;
        return this.batches(this.current.services.map((s) => genlMessage(header, IPVS_CMD.NEW_SERVICE, serviceMessage(s.service))), req.seq, pid);
      }
      case IPVS_CMD.GET_DEST: {
        if (!dump) return [errorMessage(req.seq, pid, 95)]; // EOPNOTSUPP
        const service = this.findService(req.attributes);
        const dests = service?.destinations ?? [];
        return this.batches(dests.map((d) => genlMessage(header, IPVS_CMD.NEW_DEST, destMessage(d))), req.seq, pid);
      }
      case IPVS_CMD.GET_INFO: {
        const attrs = encodeAttributes([u32Attr(1, this.current.version ?? 0x010201), u32Attr(2, this.current.connTableSize ?? 4096)], false);
        return [genlMessage({ ...header, flags: 0 }, IPVS_CMD.SET_INFO, attrs), errorMessage(req.seq, pid, 0)];
      }
      case IPVS_CMD.GET_CONFIG: {
        const t = this.current.timeouts ?? { tcp: 900, tcpFin: 120, udp: 300 };
        const specs = [
          ...(t.tcp === undefined ? [] : [u32Attr(IPVS_CMD_ATTR.TIMEOUT_TCP, t.tcp)]),
          ...(t.tcpFin === undefined ? [] : [u32Attr(IPVS_CMD_ATTR.TIMEOUT_TCP_FIN, t.tcpFin)]),
          ...(t.udp === undefined ? [] : [u32Attr(IPVS_CMD_ATTR.TIMEOUT_UDP, t.udp)]),
        ];
        return [genlMessage({ ...header, flags: 0 }, IPVS_CMD.SET_CONFIG, encodeAttributes(specs, false)), errorMessage(req.seq, pid, 0)];
      }
      default:
        return [errorMessage(req.seq, pid, 95)];
    }
  }

  /** Messages in datagrams of batchSize, then DONE (alone, or with the last batch). An empty dump is one DONE. */
  private batches(messages: Uint8Array[], seq: number, pid: number): Reply {
    const out: Uint8Array[] = [];
    for (let i = 0; i < messages.length; i += this.batchSize) out.push(datagram(...messages.slice(i, i + this.batchSize)));
    const done = doneMessage(seq, pid);
    const last = out.at(-1);
    if (this.doneWithData && last) out[out.length - 1] = datagram(last, done);
    else out.push(done);
    return out;
  }

  /** Match the request's identity nest against the table, attribute by attribute, as the kernel would. */
  private findService(attributes: Uint8Array): FakeService | undefined {
    const nest = parseAttributes(attributes, 'fake GET_DEST').find((a) => a.type === IPVS_CMD_ATTR.SERVICE);
    if (!nest) return undefined;
    const sent = new Map(parseAttributes(nest.data, 'fake identity').map((a) => [a.type, hexOf(a.data)]));
    const identityTypes = sent.has(IPVS_SVC_ATTR.FWMARK)
      ? [IPVS_SVC_ATTR.AF, IPVS_SVC_ATTR.FWMARK]
      : [IPVS_SVC_ATTR.AF, IPVS_SVC_ATTR.PROTOCOL, IPVS_SVC_ATTR.ADDR, IPVS_SVC_ATTR.PORT];
    return this.current.services.find((s) => {
      const own = new Map(serviceAttrs(s.service).map((a) => [a.type, 'data' in a ? hexOf(a.data) : '']));
      return identityTypes.every((t) => sent.get(t) !== undefined && sent.get(t) === own.get(t));
    });
  }
}

function hexOf(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

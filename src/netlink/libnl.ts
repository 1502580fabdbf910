/**
 * The one module that owns koffi and libnl (libnl-3.so.200, libnl-genl-3.so.200).
 * It only opens sockets, resolves generic-netlink families, and moves raw datagrams: every
 * message is built and decoded in TypeScript, so each datagram costs a handful of FFI crossings
 * instead of dozens per attribute (shared/spec/ipvs-genetlink.md §0, §4.3). Native code is loaded
 * on first use; a host without libnl gets a typed LIBNL_UNAVAILABLE error, never an import crash.
 */
import { createRequire } from 'node:module';
import { SentinelError } from '../errors/index.js';
import { NetlinkError, NLE } from './errors.js';

export const NETLINK_ROUTE = 0;
export const NETLINK_GENERIC = 16;
/** Big enough for any kernel dump batch (≈32 KiB) in one receive (§3.8). */
const MSG_BUF_SIZE = 65536;

/** A connected netlink socket that moves whole datagrams. Used from the JS thread only. */
export interface NetlinkSocket {
  /** Port id the kernel puts in nlmsg_pid of every reply to us. */
  readonly localPort: number;
  send(bytes: Uint8Array): void;
  /** One datagram, copied out of libnl's buffer. */
  receive(): Uint8Array;
  close(): void;
}

export interface GenericNetlinkSocket extends NetlinkSocket {
  /** The family id for a generic-netlink family name, or null when the kernel does not know it. */
  resolveFamily(name: string): number | null;
}

type Pointer = object;

interface Libnl {
  nl_socket_alloc: () => Pointer | null;
  nl_socket_free: (sk: Pointer) => void;
  nl_connect: (sk: Pointer, protocol: number) => number;
  genl_connect: (sk: Pointer) => number;
  genl_ctrl_resolve: (sk: Pointer, name: string) => number;
  nl_socket_get_local_port: (sk: Pointer) => number;
  nl_socket_set_msg_buf_size: (sk: Pointer, size: number) => number;
  nl_socket_disable_msg_peek: (sk: Pointer) => void;
  nl_socket_set_nonblocking: (sk: Pointer) => number;
  nl_sendto: (sk: Pointer, buf: Uint8Array, size: number) => number;
  nl_recv: (sk: Pointer, nla: Uint8Array, buf: (Pointer | null)[], creds: null) => number;
  nl_geterror: (code: number) => string;
  free: (ptr: Pointer) => void;
  view: (ptr: Pointer, len: number) => ArrayBuffer;
}

let loaded: Libnl | null = null;

function loadLibnl(): Libnl {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  let koffi: typeof import('koffi');
  try {
    koffi = require('koffi') as typeof import('koffi');
  } catch (cause) {
    throw new SentinelError('LIBNL_UNAVAILABLE', 'load koffi', `the koffi FFI module could not be loaded: ${String(cause)}`, { cause });
  }
  let nl: ReturnType<typeof koffi.load>;
  let genl: ReturnType<typeof koffi.load>;
  let libc: ReturnType<typeof koffi.load>;
  try {
    nl = koffi.load('libnl-3.so.200');
    genl = koffi.load('libnl-genl-3.so.200');
    libc = koffi.load('libc.so.6');
  } catch (cause) {
    throw new SentinelError(
      'LIBNL_UNAVAILABLE',
      'load libnl',
      `libnl-3.so.200 / libnl-genl-3.so.200 could not be loaded (install libnl-3-200 and libnl-genl-3-200): ${String(cause)}`,
      { cause },
    );
  }
  loaded = {
    nl_socket_alloc: nl.func('void *nl_socket_alloc(void)') as Libnl['nl_socket_alloc'],
    nl_socket_free: nl.func('void nl_socket_free(void *sk)') as Libnl['nl_socket_free'],
    nl_connect: nl.func('int nl_connect(void *sk, int protocol)') as Libnl['nl_connect'],
    genl_connect: genl.func('int genl_connect(void *sk)') as Libnl['genl_connect'],
    genl_ctrl_resolve: genl.func('int genl_ctrl_resolve(void *sk, const char *name)') as Libnl['genl_ctrl_resolve'],
    nl_socket_get_local_port: nl.func('uint32_t nl_socket_get_local_port(void *sk)') as Libnl['nl_socket_get_local_port'],
    nl_socket_set_msg_buf_size: nl.func('int nl_socket_set_msg_buf_size(void *sk, size_t bufsize)') as Libnl['nl_socket_set_msg_buf_size'],
    nl_socket_disable_msg_peek: nl.func('void nl_socket_disable_msg_peek(void *sk)') as Libnl['nl_socket_disable_msg_peek'],
    nl_socket_set_nonblocking: nl.func('int nl_socket_set_nonblocking(void *sk)') as Libnl['nl_socket_set_nonblocking'],
    nl_sendto: nl.func('int nl_sendto(void *sk, void *buf, size_t size)') as Libnl['nl_sendto'],
    nl_recv: nl.func('int nl_recv(void *sk, void *nla, _Out_ void **buf, void *creds)') as Libnl['nl_recv'],
    nl_geterror: nl.func('const char *nl_geterror(int error)') as Libnl['nl_geterror'],
    free: libc.func('void free(void *ptr)') as Libnl['free'],
    view: (ptr, len) => koffi.view(ptr, len),
  };
  return loaded;
}

function libnlError(lib: Libnl, op: string, code: number): NetlinkError {
  return new NetlinkError('NETLINK_IO', op, `${lib.nl_geterror(code)} (libnl ${code})`, { libnlCode: code });
}

class LibnlSocket implements GenericNetlinkSocket {
  readonly localPort: number;
  private sk: Pointer | null;
  private readonly sender = new Uint8Array(12); // struct sockaddr_nl, filled by nl_recv
  private readonly out: (Pointer | null)[] = [null];

  constructor(private readonly lib: Libnl, protocol: number) {
    const sk = lib.nl_socket_alloc();
    if (!sk) throw new NetlinkError('NETLINK_IO', 'allocate netlink socket', 'nl_socket_alloc returned NULL (out of memory)', {});
    const rc = protocol === NETLINK_GENERIC ? lib.genl_connect(sk) : lib.nl_connect(sk, protocol);
    if (rc < 0) {
      lib.nl_socket_free(sk);
      throw libnlError(lib, 'connect netlink socket', rc);
    }
    lib.nl_socket_set_msg_buf_size(sk, MSG_BUF_SIZE);
    lib.nl_socket_disable_msg_peek(sk);
    this.sk = sk;
    this.localPort = lib.nl_socket_get_local_port(sk);
  }

  private socket(op: string): Pointer {
    if (!this.sk) throw new NetlinkError('NETLINK_IO', op, 'the netlink socket is closed', {});
    return this.sk;
  }

  resolveFamily(name: string): number | null {
    const sk = this.socket(`resolve ${name} family`);
    // genl_ctrl_resolve runs libnl's own blocking receive loop, so it goes before non-blocking mode.
    const id = this.lib.genl_ctrl_resolve(sk, name);
    if (id === -NLE.OBJ_NOTFOUND) return null;
    if (id < 0) throw libnlError(this.lib, `resolve ${name} family`, id);
    this.setNonBlocking();
    return id;
  }

  setNonBlocking(): void {
    this.lib.nl_socket_set_nonblocking(this.socket('set netlink socket non-blocking'));
  }

  send(bytes: Uint8Array): void {
    const sk = this.socket('send netlink request');
    const rc = this.lib.nl_sendto(sk, bytes, bytes.byteLength);
    if (rc < 0) throw libnlError(this.lib, 'send netlink request', rc);
  }

  receive(): Uint8Array {
    const sk = this.socket('receive netlink reply');
    this.out[0] = null;
    const n = this.lib.nl_recv(sk, this.sender, this.out, null);
    if (n <= 0) {
      // Replies are queued synchronously during send (§3.8): "nothing to read" means no reply.
      if (n === 0) throw new NetlinkError('NETLINK_IO', 'receive netlink reply', 'the kernel closed the netlink socket', {});
      throw libnlError(this.lib, 'receive netlink reply', n);
    }
    const ptr = this.out[0];
    if (!ptr) throw new NetlinkError('NETLINK_IO', 'receive netlink reply', 'nl_recv returned no buffer', {});
    try {
      return new Uint8Array(this.lib.view(ptr, n)).slice();
    } finally {
      this.lib.free(ptr);
    }
  }

  close(): void {
    if (this.sk) this.lib.nl_socket_free(this.sk);
    this.sk = null;
  }
}

export function openGenericNetlink(): GenericNetlinkSocket {
  return new LibnlSocket(loadLibnl(), NETLINK_GENERIC);
}

/** A non-blocking socket of a classic netlink protocol, e.g. NETLINK_ROUTE for addresses. */
export function openRawNetlink(protocol: number): NetlinkSocket {
  const sock = new LibnlSocket(loadLibnl(), protocol);
  sock.setNonBlocking();
  return sock;
}

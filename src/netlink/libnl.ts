/**
 * The one module that owns koffi and libnl (libnl-3.so.200, libnl-genl-3.so.200).
 * It only opens sockets, resolves generic-netlink families, and moves raw datagrams: every
 * message is built and decoded in TypeScript. A request is one nl_sendto, a datagram of up to
 * ~100 messages one libc recv into a reused buffer — a single FFI crossing each, instead of
 * dozens per attribute (docs/ipvs-netlink.md §0, §4.3). Native code is loaded
 * on first use; a host without libnl gets a typed LIBNL_UNAVAILABLE error, never an import crash.
 */
import { createRequire } from 'node:module';
import type KoffiModule from 'koffi';
import { SentinelError } from '../errors/index.js';
import { ERRNO, NetlinkError, NLE } from './errors.js';

export const NETLINK_ROUTE = 0;
export const NETLINK_GENERIC = 16;
/** nfnetlink: ipset (NFNL_SUBSYS_IPSET) and nf_tables (NFNL_SUBSYS_NFTABLES) requests, include/uapi/linux/netlink.h. */
export const NETLINK_NETFILTER = 12;
/** Big enough for any kernel dump batch (≈32 KiB) in one receive (docs/ipvs-netlink.md §3.8). */
const MSG_BUF_SIZE = 65536;
const MSG_TRUNC = 0x20;
const ERRNO_TEXT = new Map<number, string>([
  [ERRNO.EAGAIN, 'EAGAIN (no reply)'],
  [ERRNO.ENOBUFS, 'ENOBUFS (the socket dropped a message)'],
  [ERRNO.EPERM, 'EPERM'],
]);

/** A connected netlink socket that moves whole datagrams. Used from the JS thread only. */
export interface NetlinkSocket {
  /** Port id the kernel puts in nlmsg_pid of every reply to us. */
  readonly localPort: number;
  send(bytes: Uint8Array): void;
  /**
   * One datagram. Its bytes are valid until the next receive() or close(): the socket receives into
   * one reused buffer, so a caller that keeps a datagram copies it (parse it in place otherwise).
   */
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
  nl_socket_set_nonblocking: (sk: Pointer) => number;
  nl_sendto: (sk: Pointer, buf: Uint8Array, size: number) => number;
  nl_socket_get_fd: (sk: Pointer) => number;
  /** libc recv(2): one crossing per datagram straight into our buffer (no malloc/free per datagram). */
  recv: (fd: number, buf: Uint8Array, len: number, flags: number) => number;
  errno: () => number;
  nl_geterror: (code: number) => string;
}

let loaded: Libnl | null = null;

function loadLibnl(): Libnl {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  let koffi: typeof KoffiModule;
  try {
    koffi = require('koffi') as typeof KoffiModule;
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
    nl_socket_set_nonblocking: nl.func('int nl_socket_set_nonblocking(void *sk)') as Libnl['nl_socket_set_nonblocking'],
    nl_sendto: nl.func('int nl_sendto(void *sk, void *buf, size_t size)') as Libnl['nl_sendto'],
    nl_socket_get_fd: nl.func('int nl_socket_get_fd(void *sk)') as Libnl['nl_socket_get_fd'],
    nl_geterror: nl.func('const char *nl_geterror(int error)') as Libnl['nl_geterror'],
    recv: libc.func('long recv(int fd, void *buf, size_t len, int flags)') as Libnl['recv'],
    errno: () => koffi.errno(),
  };
  return loaded;
}

function libnlError(lib: Libnl, op: string, code: number): NetlinkError {
  return new NetlinkError('NETLINK_IO', op, `${lib.nl_geterror(code)} (libnl ${code})`, { libnlCode: code });
}

class LibnlSocket implements GenericNetlinkSocket {
  readonly localPort: number;
  private sk: Pointer | null;
  /** Reused for every datagram; receive() hands out a view of the bytes received (no copy). */
  private readonly buffer = new Uint8Array(MSG_BUF_SIZE);
  /** The socket's fd, owned by libnl (never closed here); looked up once. */
  private fd = -1;

  constructor(private readonly lib: Libnl, protocol: number) {
    const sk = lib.nl_socket_alloc();
    if (!sk) throw new NetlinkError('NETLINK_IO', 'allocate netlink socket', 'nl_socket_alloc returned NULL (out of memory)', {});
    const rc = protocol === NETLINK_GENERIC ? lib.genl_connect(sk) : lib.nl_connect(sk, protocol);
    if (rc < 0) {
      lib.nl_socket_free(sk);
      throw libnlError(lib, 'connect netlink socket', rc);
    }
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
    for (;;) {
      // MSG_TRUNC makes recv return the datagram's real length, so a datagram larger than the
      // buffer is detected instead of silently cut.
      if (this.fd < 0) this.fd = this.lib.nl_socket_get_fd(sk);
      const n = this.lib.recv(this.fd, this.buffer, this.buffer.byteLength, MSG_TRUNC);
      if (n > this.buffer.byteLength) {
        throw new NetlinkError('NETLINK_IO', 'receive netlink reply', `a ${n}-byte datagram did not fit the ${this.buffer.byteLength}-byte buffer`, { libnlCode: -NLE.MSG_TRUNC });
      }
      if (n > 0) return this.buffer.subarray(0, n);
      if (n === 0) throw new NetlinkError('NETLINK_IO', 'receive netlink reply', 'the kernel closed the netlink socket', {});
      const errno = this.lib.errno();
      if (errno === ERRNO.EINTR) continue;
      // Replies are queued synchronously during send (docs/ipvs-netlink.md §3.8): EAGAIN means no reply is coming.
      throw new NetlinkError('NETLINK_IO', 'receive netlink reply', `recv failed: ${ERRNO_TEXT.get(errno) ?? `errno ${errno}`}`, { errno });
    }
  }

  close(): void {
    if (this.sk) this.lib.nl_socket_free(this.sk);
    this.sk = null;
    this.fd = -1;
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

import { SentinelError, type ErrorCode } from '../errors/index.js';

/** libnl error codes (netlink/errno.h, libnl 3.7) we act on. */
export const NLE = {
  AGAIN: 4,
  NOMEM: 5, // also ENOBUFS: the socket dropped a message
  OBJ_NOTFOUND: 12,
  MSG_TRUNC: 18,
  BUSY: 25,
  PERM: 28,
  DUMP_INTR: 33,
} as const;

/** Kernel errnos seen in NLMSG_ERROR replies. */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EAGAIN: 11,
  EBUSY: 16,
  EINVAL: 22,
  ENOBUFS: 105,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
} as const;

/** A netlink failure with the numbers behind it, so the reader can decide whether to retry. */
export class NetlinkError extends SentinelError {
  /** Negative libnl code from a libnl call, when the failure came from libnl. */
  readonly libnlCode: number | null;
  /** Positive errno from a kernel NLMSG_ERROR reply, when the kernel refused. */
  readonly errno: number | null;

  constructor(code: ErrorCode, op: string, message: string, numbers: { libnlCode?: number; errno?: number }, cause?: unknown) {
    super(code, op, message, cause === undefined ? undefined : { cause });
    this.libnlCode = numbers.libnlCode ?? null;
    this.errno = numbers.errno ?? null;
  }

  /** Transient: a dropped message (ENOBUFS), a busy dump, or an interrupted one. */
  get retryable(): boolean {
    const l = this.libnlCode === null ? null : Math.abs(this.libnlCode);
    return (
      l === NLE.NOMEM ||
      l === NLE.BUSY ||
      l === NLE.DUMP_INTR ||
      l === NLE.AGAIN ||
      this.errno === ERRNO.EBUSY ||
      this.errno === ERRNO.ENOBUFS ||
      this.errno === ERRNO.EINTR ||
      this.errno === ERRNO.EAGAIN
    );
  }
}

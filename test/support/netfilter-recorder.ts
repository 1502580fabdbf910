/**
 * A recording socket over one raw NETLINK_NETFILTER socket, for the fixture recorders
 * (scripts/record-netfilter-fixtures.ts, scripts/record-conntrack-fixtures.ts). RecordingSocket
 * wants a generic-netlink socket; the readers close theirs after each read, so this one stays open
 * for the next read of the same recording and every exchange has the port the replay will claim.
 */
import { release } from 'node:os';
import { NETLINK_NETFILTER, openRawNetlink, type GenericNetlinkSocket } from '../../src/netlink/libnl.js';
import { RecordingSocket } from '../../src/netlink/recording.js';

export function netfilterRecorder(description: string): RecordingSocket {
  const raw = openRawNetlink(NETLINK_NETFILTER);
  const adapter: GenericNetlinkSocket = {
    localPort: raw.localPort,
    send: (bytes) => raw.send(bytes),
    receive: () => raw.receive(),
    close: () => undefined,
    resolveFamily: () => null,
  };
  return new RecordingSocket(adapter, { description, kernel: release() });
}

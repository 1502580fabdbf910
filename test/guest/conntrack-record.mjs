// Runs inside the guest: read the UDP conntrack entries (both families, the kernel asked for UDP
// only) through a recording socket and print the recording, for test/fixtures/conntrack/.
const { readUdpConntrack } = await import(`${process.env.REPO}/dist/conntrack/reader.js`);
const { NETLINK_NETFILTER, openRawNetlink } = await import(`${process.env.REPO}/dist/netlink/libnl.js`);
const { RecordingSocket } = await import(`${process.env.REPO}/dist/netlink/recording.js`);
const { readFileSync } = await import('node:fs');

const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
const raw = openRawNetlink(NETLINK_NETFILTER);
// One socket across the reader's dumps (it closes each after use), so the replay has one port.
const adapter = { localPort: raw.localPort, send: (b) => raw.send(b), receive: () => raw.receive(), close: () => undefined, resolveFamily: () => null };
const recorder = new RecordingSocket(adapter, { description: process.argv[2] ?? '', kernel });
readUdpConntrack({ open: () => recorder, seq: 4242 });
raw.close();
console.log(JSON.stringify(recorder.recording, null, 1));

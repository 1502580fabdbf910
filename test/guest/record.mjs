// Runs inside the guest: read the table through a recording socket and print the recording.
const { IpvsReader } = await import(`${process.env.REPO}/dist/ipvs/reader.js`);
const { openGenericNetlink } = await import(`${process.env.REPO}/dist/netlink/libnl.js`);
const { RecordingSocket } = await import(`${process.env.REPO}/dist/netlink/recording.js`);
const { readFileSync } = await import('node:fs');

const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
let recorder;
const reader = new IpvsReader({
  open: () => (recorder = new RecordingSocket(openGenericNetlink(), { description: process.argv[2] ?? '', kernel })),
  maxAttempts: 1,
});
await reader.read();
reader.close();
console.log(JSON.stringify(recorder.recording, null, 1));

// Runs inside the guest: read the table over and over while a shell loop adds and deletes
// services and destinations, and report what every read returned.
const { IpvsReader } = await import(`${process.env.REPO}/dist/ipvs/reader.js`);
const { openGenericNetlink } = await import(`${process.env.REPO}/dist/netlink/libnl.js`);
const reader = new IpvsReader({ open: openGenericNetlink, maxAttempts: 4 });
const results = [];
for (let i = 0; i < Number(process.argv[2] ?? 40); i++) {
  try {
    const s = await reader.read();
    results.push({
      ok: true,
      services: s.services.map((vs) => ({ key: vs.key, dests: vs.destinations.map((d) => `${d.address}:${d.port}`) })),
    });
  } catch (err) {
    results.push({ ok: false, code: err.code ?? 'UNCODED', message: String(err.message) });
  }
}
reader.close();
console.log(JSON.stringify(results));

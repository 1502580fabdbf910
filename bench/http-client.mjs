// A scraper in a process of its own, as Prometheus or curl is: GETs URL N times, one after the
// other, and prints {"times":[ms...],"bytes":N} — each time from sending the request to the last byte.
//   node bench/http-client.mjs URL N
/* global fetch */
const [url, count = '5'] = process.argv.slice(2);
const times = [];
let bytes = 0;
for (let i = 0; i < Number(count); i++) {
  const started = performance.now();
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  bytes = (await response.arrayBuffer()).byteLength;
  times.push(performance.now() - started);
}
console.log(JSON.stringify({ times, bytes }));

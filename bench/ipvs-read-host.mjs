// The `ipvs` command's read and render on the host, for profiling (not figures): `node
// bench/ipvs-read-host.mjs SERVICES [table|json] > /dev/null` runs src/cli/ipvs.ts's runIpvs over a
// SERVICES × 10 table answered in process (bench/scale-kernel.mjs) with the process's own stdout,
// as the command does (REUSE=1: a reusing reader, as the agent's). Add --cpu-prof before the script for a profile. Needs `npm run build`.
import { runIpvs } from '../dist/cli/ipvs.js';
import { parseCommandLine } from '../dist/cli/flags.js';
import { processIo } from '../dist/cli/io.js';
import { IpvsReader } from '../dist/ipvs/reader.js';
import { scaleKernel } from './scale-kernel.mjs';

const services = Number(process.argv[2] ?? 5000);
const output = process.argv[3] ?? 'json';
const kernel = scaleKernel({ services, endpoints: 10, busyEvery: 10 });
const start = performance.now();
const code = await runIpvs(parseCommandLine(['ipvs', '--output', output], {}).options, processIo, new IpvsReader({ open: kernel.open, reuse: process.env.REUSE === '1' }));
const cpu = process.cpuUsage();
process.stderr.write(`exit ${code}, ${(performance.now() - start).toFixed(0)} ms, process CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms\n`);

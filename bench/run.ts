/**
 * `npm run bench [ipvs|desired|diff|metrics|agent|state-file]`: prints the speed and memory figures the README
 * reports. Benchmarks print numbers; tests assert behaviour, never wall-clock time.
 */
import { runAgentScaleBench } from './agent-scale.js';
import { runDesiredBench } from './desired-bench.js';
import { runDiffBench } from './diff-bench.js';
import { runIpvsReadBench } from './ipvs-read.js';
import { runMetricsBench } from './metrics-bench.js';
import { runStateFileBench } from './state-file-bench.js';

const only = process.argv[2];
const benches: Record<string, () => Promise<void>> = {
  desired: runDesiredBench,
  diff: runDiffBench,
  metrics: runMetricsBench,
  ipvs: runIpvsReadBench,
  agent: runAgentScaleBench,
  'state-file': runStateFileBench,
};
if (only !== undefined && !(only in benches)) {
  console.error(`unknown benchmark "${only}"; choose one of: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  console.log(`== ${name} ==`);
  await run();
  console.log('');
}

/**
 * `npm run bench [ipvs|ipvs-compare BASE|desired|diff|metrics|agent|curve|state-file|migration|render]`: prints the speed and memory figures the README
 * reports. Benchmarks print numbers; tests assert behaviour, never wall-clock time.
 */
import { runAgentCurveBench } from './agent-curve.js';
import { runAgentScaleBench } from './agent-scale.js';
import { runDesiredBench } from './desired-bench.js';
import { runDiffBench } from './diff-bench.js';
import { runIpvsCompareBench } from './ipvs-compare.js';
import { runIpvsReadBench } from './ipvs-read.js';
import { runMetricsBench } from './metrics-bench.js';
import { runMigrationBench } from './migration-bench.js';
import { runRenderBench } from './render-bench.js';
import { runStateFileBench } from './state-file-bench.js';

const only = process.argv[2];
const benches: Record<string, () => Promise<void>> = {
  desired: runDesiredBench,
  diff: runDiffBench,
  metrics: runMetricsBench,
  ipvs: runIpvsReadBench,
  'ipvs-compare': () => runIpvsCompareBench(process.argv.slice(3)),
  agent: runAgentScaleBench,
  curve: () => runAgentCurveBench(process.argv[3]),
  'state-file': runStateFileBench,
  migration: runMigrationBench,
  render: () => runRenderBench(process.argv[3], process.argv[4]),
};
if (only !== undefined && !(only in benches)) {
  console.error(`unknown benchmark "${only}"; choose one of: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  // The curve runs the agent up to 50,000 Services (~10 minutes): only when asked for.
  if (!only && name === 'curve') continue;
  // A comparison needs a base revision to compare with.
  if (!only && name === 'ipvs-compare') continue;
  console.log(`== ${name} ==`);
  await run();
  console.log('');
}

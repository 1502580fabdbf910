/** `npm run bench`: prints the speed and memory figures the README reports. */
import { runIpvsReadBench } from './ipvs-read.js';

const only = process.argv[2];
const benches: Record<string, () => Promise<void>> = {
  ipvs: runIpvsReadBench,
};
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  await run();
  console.log('');
}

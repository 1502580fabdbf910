/**
 * Run as a child process (`node --expose-gc --import tsx parse-state-child.ts FILE`, with a small
 * --max-old-space-size in tests): reads a cluster-state file and prints, as one JSON line, what it
 * holds, how long the read took, the process's RSS before it and at its peak, and the heap left
 * after a full collection — so a test or the bench can parse a large file in a process of its own.
 */
import { readClusterStateFile } from '../../src/cluster/read-state-file.js';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: parse-state-child.ts FILE');
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const rssBeforeBytes = process.memoryUsage().rss;
const started = performance.now();
const state = await readClusterStateFile(file);
const parseMs = performance.now() - started;
gc?.();
console.log(
  JSON.stringify({
    services: state.services.length,
    endpointSlices: state.endpointSlices.length,
    nodes: state.nodes.length,
    parseMs,
    rssBeforeBytes,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    heapUsedAfterGc: process.memoryUsage().heapUsed,
  }),
);

/**
 * The five parts of prom-client the agent uses, imported from their own modules instead of the
 * package index. The index also loads the Pushgateway (zlib, and http/https eagerly), Summary (the
 * tdigest and bintrees packages) and the cluster AggregatorRegistry, none of which the agent uses.
 * prom-client declares no `exports` map, so its lib/ modules are public paths; their types are the
 * package's own (prom-client-lib.d.ts).
 *
 * `npm run build` then bundles this module with esbuild (scripts/bundle.mjs) to leave out
 * @opentelemetry/api: the default metrics' CPU counter loads it to label exemplars, which the agent
 * never enables, and it costs ~6 MB of RSS on Node 24.
 */
import Counter from 'prom-client/lib/counter.js';
import collectDefaultMetrics from 'prom-client/lib/defaultMetrics.js';
import Gauge from 'prom-client/lib/gauge.js';
import Histogram from 'prom-client/lib/histogram.js';
import Registry from 'prom-client/lib/registry.js';

export { Counter, Gauge, Histogram, Registry, collectDefaultMetrics };

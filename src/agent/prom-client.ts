/**
 * The five parts of prom-client the agent uses, required from their own modules instead of the
 * package index. The index also loads the Pushgateway (zlib, and http/https eagerly), Summary (the
 * tdigest and bintrees packages) and the cluster AggregatorRegistry: ~7 MB of RSS on Node 24 that
 * the agent never uses. prom-client declares no `exports` map, so its lib/ modules are public
 * paths; the types are the package's own (erased at build).
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const require = createRequire(import.meta.url);

export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
export type Registry = PromClient.Registry;
export const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
export const Histogram = require('prom-client/lib/histogram') as typeof PromClient.Histogram;
export const collectDefaultMetrics = require('prom-client/lib/defaultMetrics') as typeof PromClient.collectDefaultMetrics;

/**
 * node:http loaded with require(), not `import`. On Node 24 an ESM import of node:http builds the
 * module namespace from every export, and reading the lazy ones (WebSocket, CloseEvent, ...) loads
 * undici and http2: ~13 MB of RSS the agent never uses. require() leaves them lazy. The client-node
 * bundle gets the same treatment (scripts/bundle.mjs).
 */
import { createRequire } from 'node:module';
import type * as Http from 'node:http';

const http = createRequire(import.meta.url)('node:http') as typeof Http;

export const createServer: typeof Http.createServer = http.createServer;
export const STATUS_CODES: typeof Http.STATUS_CODES = http.STATUS_CODES;

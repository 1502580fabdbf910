/**
 * node:http and node:https loaded with require(), not `import`. On Node 24 an ESM import of
 * node:http builds the module namespace from every export, and reading the lazy ones (WebSocket,
 * CloseEvent, ...) loads undici and http2: ~13 MB of RSS the agent never uses. require() leaves them
 * lazy. The client-node bundle gets the same treatment (scripts/bundle.mjs). For the same reason
 * the agent's own HTTP requests do not use the global fetch(), which is undici.
 */
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import type * as Https from 'node:https';

const require = createRequire(import.meta.url);
const http = require('node:http') as typeof Http;

export const createServer: typeof Http.createServer = http.createServer;
export const STATUS_CODES: typeof Http.STATUS_CODES = http.STATUS_CODES;

/** http.request or https.request, by the URL's scheme (https is loaded on first use). */
export function requestFor(url: URL): typeof Http.request {
  if (url.protocol === 'http:') return http.request;
  if (url.protocol === 'https:') return (require('node:https') as typeof Https).request;
  throw new TypeError(`unsupported URL scheme "${url.protocol}" (http: or https:)`);
}

/**
 * One full list of a resource as ListWatch's listFn: a plain GET per page with the kubeconfig's
 * credentials (api-request.ts), `limit`/`continue` chunks of 500 as client-go's pager, each page
 * validated and converted as it is parsed (list-page.ts) — client-node's generated list APIs would
 * deserialize every object into model classes first, and load the whole generated API
 * (client-node.ts). An expired continue token falls back to one unpaged list, as client-go's pager
 * (k8s.io/client-go/tools/pager). Every failure is a SentinelError: KUBE_API_ERROR for no answer or
 * an error status, KUBE_API_MALFORMED for an answer that is not a list.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { IncomingMessage } from 'node:http';
import { toSentinelError } from '../errors/index.js';
import { ApiStatusError, describeError, malformed, readErrorBody, statusDetail } from './api-error.js';
import { apiGet } from './api-request.js';
import type { CachedObject, ClusterResource, ConvertedByResource } from './cached.js';
import { checkListPage, type ListPage } from './list-page.js';

/** The collection's path and the selectors its list and watch carry. */
export interface ListRequest {
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ListOptions {
  kubeConfig: KubeConfig;
  /** `limit` of each page; undefined lists in one answer. */
  pageSize: number | undefined;
  /** How long one page may take, its whole body included. */
  timeoutMs: number;
  /** The continue token expired (410): the list starts over without pages. */
  onRestartUnpaged?: () => void;
  /** Items of a refused page that failed validation. */
  onRejectedItems?: (count: number) => void;
}

export interface ListResult<R extends ClusterResource> {
  items: CachedObject<ConvertedByResource[R]>[];
  resourceVersion: string;
}

export function isGone(err: unknown): boolean {
  return err instanceof ApiStatusError && err.statusCode === 410;
}

export async function listAll<R extends ClusterResource>(resource: R, request: ListRequest, options: ListOptions): Promise<ListResult<R>> {
  let page = await listPage(resource, request, options, options.pageSize, undefined);
  const items = page.items;
  while (page.continueToken) {
    try {
      page = await listPage(resource, request, options, options.pageSize, page.continueToken);
    } catch (err) {
      if (!isGone(err)) throw err;
      options.onRestartUnpaged?.();
      page = await listPage(resource, request, options, undefined, undefined);
      items.length = 0;
    }
    for (const item of page.items) items.push(item);
  }
  return { items, resourceVersion: page.resourceVersion };
}

/** One page of the list: GET path?labelSelector&fieldSelector&limit&continue, validated and converted. */
async function listPage<R extends ClusterResource>(
  resource: R,
  request: ListRequest,
  options: ListOptions,
  limit: number | undefined,
  continueToken: string | undefined,
): Promise<ListPage<R>> {
  const { kubeConfig, timeoutMs } = options;
  const op = `list ${request.path}`;
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  const url = new URL(cluster.server + request.path);
  const query: Record<string, string | number | undefined> = {
    labelSelector: request.labelSelector,
    fieldSelector: request.fieldSelector,
    limit,
    continue: continueToken,
  };
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const failure = (err: unknown): Error =>
    controller.signal.aborted ? toSentinelError(new Error(`no complete answer within ${timeoutMs / 1000} s`, { cause: err }), 'KUBE_API_ERROR', op) : toSentinelError(err, 'KUBE_API_ERROR', op);
  try {
    let response: IncomingMessage;
    try {
      response = await apiGet(kubeConfig, url, controller.signal);
    } catch (err) {
      throw failure(err);
    }
    const status = response.statusCode ?? 0;
    if (status !== 200) throw new ApiStatusError(status, statusDetail(status, await readErrorBody(response)), op);
    let text: string;
    try {
      const parts: Buffer[] = [];
      for await (const chunk of response) parts.push(chunk as Buffer);
      text = Buffer.concat(parts).toString('utf8');
    } catch (err) {
      if (controller.signal.aborted) throw failure(err);
      throw malformed(op, `the answer was cut off: ${describeError(err)}`, err);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw malformed(op, `the answer is not JSON (${Buffer.byteLength(text)} bytes${text.length > 0 ? ', cut off or garbage' : ', empty'})`, err);
    }
    const page = checkListPage(resource, parsed);
    if (!page.ok) {
      options.onRejectedItems?.(page.rejectedItems);
      throw malformed(op, page.reason);
    }
    return page.value;
  } finally {
    clearTimeout(timer);
  }
}

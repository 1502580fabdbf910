/**
 * Pods and the pod proxy for the API stand-in (a StandinExtension, test/support/kube-api-standin.ts):
 * GET /api/v1/namespaces/<ns>/pods (labelSelector honoured) lists the pods given, and
 * GET /api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy/<path> answers what the test says that pod's
 * agent answers — a body, a status, or nothing (the API server's 503 for a pod it cannot reach).
 */
import type http from 'node:http';
import { parseLabelSelector, type StandinExtension } from './kube-api-standin.js';

export interface StandinPod {
  namespace: string;
  name: string;
  nodeName: string;
  labels: Record<string, string>;
  phase?: string;
  /** What GET <path> through the proxy answers, by path ("/migration"); absent: 503 as for an unreachable pod. */
  answers?: Record<string, { status: number; body: string }>;
}

function send(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
}

export function podsExtension(pods: readonly StandinPod[], requests: string[] = []): StandinExtension {
  return (_req, res, request) => {
    const list = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(request.path);
    if (list) {
      requests.push(request.path);
      const matches = parseLabelSelector(request.query.labelSelector ?? '');
      const items = pods
        .filter((p) => p.namespace === decodeURIComponent(list[1] ?? '') && matches(p.labels))
        .map((p) => ({ metadata: { name: p.name, namespace: p.namespace, labels: p.labels }, spec: { nodeName: p.nodeName }, status: { phase: p.phase ?? 'Running' } }));
      send(res, 200, JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items }));
      return true;
    }
    const proxy = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/:]+):(\d+)\/proxy(\/.*)$/.exec(request.path);
    if (proxy) {
      requests.push(request.path);
      const pod = pods.find((p) => p.namespace === proxy[1] && p.name === decodeURIComponent(proxy[2] ?? ''));
      const answer = pod?.answers?.[proxy[4] ?? ''];
      if (!pod) send(res, 404, JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: 'pods not found' }));
      else if (!answer) send(res, 503, JSON.stringify({ kind: 'Status', code: 503, reason: 'ServiceUnavailable', message: 'error trying to reach service: dial tcp: connect: connection refused' }));
      else send(res, answer.status, answer.body);
      return true;
    }
    return false;
  };
}

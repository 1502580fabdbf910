/**
 * One page of a list as the API server answers it (k8s.io/apimachinery/pkg/apis/meta/v1 List:
 * kind `<Kind>List`, metadata.resourceVersion and .continue, items), validated before ListWatch
 * uses it. A list is a snapshot ListWatch replaces its cache with, deleting whatever is missing,
 * so a page with one bad item is rejected whole rather than applied with a hole in it.
 * Pure: parsed JSON in, cached objects or a rejection out.
 */
import { checkCached, KIND_OF, typeName, type CachedObject, type ClusterResource, type ConvertedByResource } from './cached.js';
import { asObj } from './convert.js';

export interface ListPage<R extends ClusterResource> {
  items: CachedObject<ConvertedByResource[R]>[];
  resourceVersion: string;
  /** '' on the last page. */
  continueToken: string;
}

export type CheckedListPage<R extends ClusterResource> = { ok: true; value: ListPage<R> } | { ok: false; reason: string; rejectedItems: number };

export function checkListPage<R extends ClusterResource>(resource: R, parsed: unknown): CheckedListPage<R> {
  const reject = (reason: string, rejectedItems = 0): CheckedListPage<R> => ({ ok: false, reason, rejectedItems });
  const list = asObj(parsed);
  if (!list) return reject(`the answer is ${typeName(parsed)}, not a list`);
  const expectedKind = `${KIND_OF[resource]}List`;
  if (list.kind !== undefined && list.kind !== expectedKind) {
    return reject(`kind ${typeof list.kind === 'string' ? JSON.stringify(list.kind.slice(0, 40)) : typeName(list.kind)} where ${expectedKind} was asked for`);
  }
  if (!Array.isArray(list.items)) return reject(`items is ${typeName(list.items)}, not an array`);
  const meta = asObj(list.metadata);
  const resourceVersion = meta?.resourceVersion;
  if (typeof resourceVersion !== 'string' || resourceVersion === '') return reject('metadata.resourceVersion is missing or not a string');
  const continueToken = meta?.continue ?? '';
  if (typeof continueToken !== 'string') return reject(`metadata.continue is ${typeName(continueToken)}, not a string`);

  const items: CachedObject<ConvertedByResource[R]>[] = [];
  let rejected = 0;
  let first = '';
  for (const [index, item] of (list.items as unknown[]).entries()) {
    const checked = checkCached(resource, item);
    if (checked.ok) {
      items.push(checked.value);
    } else {
      if (rejected === 0) first = `item ${index}: ${checked.reason}`;
      rejected++;
    }
  }
  if (rejected > 0) return reject(`${rejected} of ${list.items.length} items rejected; ${first}`, rejected);
  return { ok: true, value: { items, resourceVersion, continueToken } };
}

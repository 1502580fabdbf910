/**
 * JSON text with exact 64-bit counters: bigint values are written as plain JSON integers with all
 * their digits (JSON.stringify would throw; Number() would round above 2^53).
 */
const MARK = '\u0000bigint:';

export function stringifyJson(value: unknown, indent = 2): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${MARK}${v.toString()}` : v), indent);
  return text.replace(/"\\u0000bigint:(\d+)"/g, '$1');
}

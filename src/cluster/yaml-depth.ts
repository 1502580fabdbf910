/**
 * How deep collections nest in a YAML text, found on the `yaml` package's concrete syntax tree,
 * whose parser keeps an explicit stack. Its composer and every recursive reader after it (js-yaml
 * included) recurse once or more per level: at some 800 levels they overflow the stack, and after
 * one such overflow Node 20's regular-expression compiler was seen to abort the process. So the depth
 * is checked here, before any of them runs.
 */
import type { CST } from 'yaml';

/** Offset of the first collection nested deeper than `limit`, or null; iterative, as the tree may be deep. */
export function yamlTooDeepAt(tokens: readonly CST.Token[], limit: number): number | null {
  const stack: [CST.Token, number][] = tokens.map((t) => [t, 0]);
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [token, depth] = top;
    if (token.type === 'document') {
      if (token.value) stack.push([token.value, depth]);
    } else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth + 1 > limit) return token.offset;
      for (const item of token.items as CST.CollectionItem[]) {
        if (item.key) stack.push([item.key, depth + 1]);
        if (item.value) stack.push([item.value, depth + 1]);
      }
    }
  }
  return null;
}

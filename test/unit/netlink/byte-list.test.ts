import { describe, expect, it } from 'vitest';
import { ByteList } from '../../../src/netlink/byte-list.js';

describe('ByteList', () => {
  it('keeps each pushed byte string, copied, across growth and reuse', () => {
    const list = new ByteList();
    const source = new Uint8Array(40_000);
    const pushed: number[][] = [];
    for (let i = 0; i < 3000; i++) {
      const data = source.subarray(0, i % 97);
      data.fill(i & 0xff);
      list.push(data);
      pushed.push([...data]);
    }
    source.fill(0xee); // the list holds copies, not views of the caller's buffer
    expect(list.length).toBe(3000);
    for (let i = 0; i < 3000; i++) expect([...list.at(i)]).toEqual(pushed[i]);

    list.clear();
    expect(list.length).toBe(0);
    list.push(Uint8Array.of(1, 2, 3));
    expect([...list.at(0)]).toEqual([1, 2, 3]);
    expect(() => list.at(1)).toThrow(RangeError);
  });
});

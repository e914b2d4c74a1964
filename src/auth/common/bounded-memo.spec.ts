import { boundedMemo } from './bounded-memo';

describe('boundedMemo', () => {
  it('computes once per key and returns the same value', () => {
    const fn = jest.fn((k: string) => `h(${k})`);
    const memo = boundedMemo(fn);
    expect([memo('a'), memo('b'), memo('a')]).toEqual(['h(a)', 'h(b)', 'h(a)']);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('never holds more than its bound, and stays correct after starting over', () => {
    const fn = jest.fn((k: string) => k.toUpperCase());
    const memo = boundedMemo(fn, 3);
    for (const k of ['a', 'b', 'c', 'd', 'e']) expect(memo(k)).toBe(k.toUpperCase());
    expect(memo('a')).toBe('A');
    // a, b, c filled it; d started over; e and a (again) were computed: 6 calls for 6 misses.
    expect(fn).toHaveBeenCalledTimes(6);
  });
});

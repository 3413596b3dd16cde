import { hrTimeToNanos } from './span-record.js';

describe('hrTimeToNanos', () => {
  it('is seconds * 1e9 + nanoseconds, exactly, as a decimal string', () => {
    const cases: [number, number][] = [
      [1_795_436_998, 0],
      [1_795_436_998, 7],
      [1_795_436_998, 123_456_789],
      [1_795_436_998, 999_999_999],
      [1, 5],
      [0, 42],
      [0, 0],
    ];
    for (const [s, ns] of cases) expect(hrTimeToNanos([s, ns])).toBe((BigInt(s) * 1_000_000_000n + BigInt(ns)).toString());
  });
});

import { findJsonLimitViolation, type JsonLimits } from './json-limits.js';

const limits: JsonLimits = { maxDepth: 8, maxArrayItems: 5, maxObjectKeys: 4 };
const check = (text: string, l: JsonLimits = limits) => findJsonLimitViolation(Buffer.from(text), l)?.limit;
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const objectWithKeys = (n: number): string => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`;
const arrayOf = (n: number, item = '0'): string => `[${Array(n).fill(item).join(',')}]`;

describe('findJsonLimitViolation', () => {
  it('accepts nesting exactly at the limit and refuses one level more', () => {
    expect(check(nested(8))).toBeUndefined();
    expect(check(nested(9))).toBe('depth');
    expect(check(`{"a":${nested(7)}}`)).toBeUndefined();
    expect(check(`{"a":${nested(8)}}`)).toBe('depth');
  });

  it('counts depth per path, not per bracket: many shallow siblings pass', () => {
    expect(check(`[${Array(4).fill('[[]]').join(',')}]`, { maxDepth: 3, maxArrayItems: 10, maxObjectKeys: 10 })).toBeUndefined();
  });

  it('refuses 10,000 and 1,000,000 levels without recursing, and names the limit', () => {
    const defaults: JsonLimits = { maxDepth: 128, maxArrayItems: 500_000, maxObjectKeys: 10_000 };
    expect(check(nested(10_000), defaults)).toBe('depth');
    expect(check('{"a":'.repeat(1_000_000) + '1' + '}'.repeat(1_000_000), defaults)).toBe('depth');
    expect(findJsonLimitViolation(Buffer.from(nested(10_000)), defaults)?.message).toBe('The JSON body is nested deeper than 128 levels.');
    // Unclosed, as an attacker may send it: refused on the way down.
    expect(check('['.repeat(1_000_000), defaults)).toBe('depth');
  });

  it('accepts arrays and objects exactly at their limits and refuses one more item or key', () => {
    expect(check(arrayOf(5))).toBeUndefined();
    expect(check(arrayOf(6))).toBe('array_items');
    expect(check(objectWithKeys(4))).toBeUndefined();
    expect(check(objectWithKeys(5))).toBe('object_keys');
    expect(check('[]')).toBeUndefined();
    expect(check('{}')).toBeUndefined();
  });

  it('counts items per container: many small arrays together may exceed the limit', () => {
    expect(check(`[${Array(5).fill(arrayOf(5)).join(',')}]`)).toBeUndefined();
    expect(check(`{"a":${arrayOf(5)},"b":${arrayOf(5)},"c":${objectWithKeys(4)}}`)).toBeUndefined();
  });

  it('refuses a million array items and a million keys', () => {
    const defaults: JsonLimits = { maxDepth: 128, maxArrayItems: 500_000, maxObjectKeys: 10_000 };
    expect(check(`{"model":"m","messages":${arrayOf(1_000_000, '{}')}}`, defaults)).toBe('array_items');
    expect(check(objectWithKeys(1_000_000), defaults)).toBe('object_keys');
    expect(check(arrayOf(500_000), defaults)).toBeUndefined(); // a long token-array prompt
  });

  it('ignores brackets, commas and escaped quotes inside strings', () => {
    expect(check(JSON.stringify({ a: '[[[[[[[[[[[[[[[[[[[[', b: ',,,,,,,,,,,,', c: '{{{{{{{{{{{{{{{{' }))).toBeUndefined();
    expect(check(JSON.stringify({ a: 'say \\"[[[[[[[[[[\\" and "{{{{{{{{{{{,,,,,,,,"' }))).toBeUndefined();
    expect(check(JSON.stringify(['\\', '[[[[[[[[[[', '\\\\"', ',,,,,,,,,,']))).toBeUndefined();
    // The closing quote after an escaped backslash really closes: the brackets after it count.
    expect(check(`["a\\\\",${nested(8)}]`)).toBe('depth');
    // An escaped quote does not close: these brackets are text.
    expect(check(`["a\\"${nested(20)}"]`)).toBeUndefined();
  });

  it('finds the end of long strings, with and without escapes near and far from their start', () => {
    const long = 'x'.repeat(1000);
    for (const text of [long, `${long}\\`, `${long}"${long}`, `\\${long}`, `${'\\"'.repeat(100)}${long}`, `${long}\\\\`, `a${'\\'.repeat(63)}"`]) {
      const json = JSON.stringify([text, [[[[[[[[]]]]]]]]]);
      expect(check(json, { ...limits, maxDepth: 9 })).toBeUndefined();
      expect(check(json, { ...limits, maxDepth: 8 })).toBe('depth');
    }
  });

  it('counts multi-byte UTF-8 text as text', () => {
    expect(check(JSON.stringify({ a: 'é[ü,ß{'.repeat(100), b: '日本語' }))).toBeUndefined();
  });

  it('leaves invalid JSON to the parser (an unterminated string is not a violation)', () => {
    expect(check(`["${'['.repeat(100)}`)).toBeUndefined();
  });

  it('decides a typical chat body from byte counts, and the exact scan agrees', () => {
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'system', content: 'Be brief, please.' }, { role: 'user', content: 'Hello, [world]!' }], temperature: 0.2 });
    expect(findJsonLimitViolation(Buffer.from(body), { maxDepth: 128, maxArrayItems: 500_000, maxObjectKeys: 10_000 })).toBeUndefined();
    expect(check(body, { maxDepth: 3, maxArrayItems: 2, maxObjectKeys: 3 })).toBeUndefined(); // exact scan: commas in strings do not count
    expect(check(body, { maxDepth: 2, maxArrayItems: 2, maxObjectKeys: 3 })).toBe('depth');
    expect(check(body, { maxDepth: 3, maxArrayItems: 1, maxObjectKeys: 3 })).toBe('array_items');
    expect(check(body, { maxDepth: 3, maxArrayItems: 2, maxObjectKeys: 2 })).toBe('object_keys');
  });
});

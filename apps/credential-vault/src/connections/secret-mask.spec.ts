import { lastFourOf, maskFromLastFour, maskSecret } from './secret-mask.js';

describe('secret masks', () => {
  it('shows only the last 4 characters of a key longer than 8 characters', () => {
    expect(maskSecret('sk-proj-abcdefWXYZ')).toBe('••••WXYZ');
  });

  it('shows the last 4 of a 9-character key, the shortest that reveals any', () => {
    expect(maskSecret('123456789')).toBe('••••6789');
  });

  it('hides a key of 8 characters or less completely', () => {
    expect(maskSecret('12345678')).toBe('••••');
    expect(maskSecret('abc')).toBe('••••');
    expect(lastFourOf('12345678')).toBeNull();
  });

  it('counts characters, not UTF-16 units, so a mask never splits a character', () => {
    expect(lastFourOf('🔑🔑🔑🔑🔑🔑🔑🔑🔑')).toBe('🔑🔑🔑🔑');
    expect(lastFourOf('🔑🔑🔑🔑🔑🔑🔑🔑')).toBeNull();
  });

  it('builds the same mask from the stored last 4 as from the whole key', () => {
    for (const key of ['sk-ant-api03-xyz-1234', 'short', '']) expect(maskFromLastFour(lastFourOf(key))).toBe(maskSecret(key));
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { MasterKeyRing } from './master-key-ring.js';

const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('base64');

describe('MasterKeyRing.parse', () => {
  it('makes the first listed key the active one and keeps the others for reading', () => {
    const ring = MasterKeyRing.parse(`new:${KEY_B},old:${KEY_A}`);
    expect(ring.activeId).toBe('new');
    expect(ring.has('old')).toBe(true);
    expect(ring.retiredIds).toEqual(['old']);
  });

  it('derives the id of a key given without one from the first 8 hex digits of its sha256', () => {
    const ring = MasterKeyRing.parse(KEY_A);
    const expected = createHash('sha256').update(Buffer.from(KEY_A, 'base64')).digest('hex').slice(0, 8);
    expect(ring.activeId).toBe(expected);
    expect(ring.retiredIds).toEqual([]);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => MasterKeyRing.parse(`a:${randomBytes(16).toString('base64')}`)).toThrow(/32 bytes/);
  });

  it('refuses two keys with the same id', () => {
    expect(() => MasterKeyRing.parse(`a:${KEY_A},a:${KEY_B}`)).toThrow(/twice/);
  });

  it('never shows key material when printed', () => {
    const ring = MasterKeyRing.parse(`a:${KEY_A}`);
    expect(JSON.stringify(ring)).not.toContain(KEY_A);
    expect(String(ring)).not.toContain(KEY_A);
  });
});

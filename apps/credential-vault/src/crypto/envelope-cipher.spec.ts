import { randomBytes } from 'node:crypto';
import { EnvelopeCipher, SecretUnreadableError, type SealedSecret } from './envelope-cipher.js';
import { MasterKeyRing } from './master-key-ring.js';

const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('base64');
const ROW_1 = Buffer.from('["org_1","conn_1"]');
const ROW_2 = Buffer.from('["org_1","conn_2"]');
const SECRET = Buffer.from('{"apiKey":"sk-live-abcdefghijklmnop"}');

function flipByte(buf: Buffer, index: number): Buffer {
  const copy = Buffer.from(buf);
  copy[index] ^= 0x01;
  return copy;
}

describe('EnvelopeCipher', () => {
  const ringA = MasterKeyRing.parse(`a:${KEY_A}`);
  const cipher = new EnvelopeCipher(ringA);

  it('opens what it sealed, with the same row context', () => {
    const sealed = cipher.seal(SECRET, ROW_1);
    expect(cipher.open(sealed, ROW_1).toString()).toBe(SECRET.toString());
    expect(sealed.masterKeyId).toBe('a');
  });

  it('never stores the plaintext or the data key in clear', () => {
    const sealed = cipher.seal(SECRET, ROW_1);
    expect(sealed.ciphertext.includes(SECRET)).toBe(false);
    expect(sealed.ciphertext.includes(Buffer.from('sk-live'))).toBe(false);
    expect(sealed.ciphertext.length).toBe(1 + 12 + 16 + SECRET.length);
    expect(sealed.wrappedDataKey.length).toBe(1 + 12 + 16 + 32);
  });

  it('uses a fresh data key and IV for every secret, so equal secrets seal differently', () => {
    const one = cipher.seal(SECRET, ROW_1);
    const two = cipher.seal(SECRET, ROW_1);
    expect(one.ciphertext.equals(two.ciphertext)).toBe(false);
    expect(one.wrappedDataKey.equals(two.wrappedDataKey)).toBe(false);
  });

  it('refuses a ciphertext with one flipped byte', () => {
    const sealed = cipher.seal(SECRET, ROW_1);
    const tampered: SealedSecret = { ...sealed, ciphertext: flipByte(sealed.ciphertext, sealed.ciphertext.length - 1) };
    expect(() => cipher.open(tampered, ROW_1)).toThrow(SecretUnreadableError);
  });

  it('refuses a ciphertext whose authentication tag was altered', () => {
    const sealed = cipher.seal(SECRET, ROW_1);
    const tagStart = 1 + 12;
    const tampered: SealedSecret = { ...sealed, ciphertext: flipByte(sealed.ciphertext, tagStart + 3) };
    expect(() => cipher.open(tampered, ROW_1)).toThrow(/failed authentication/);
  });

  it('refuses a wrapped data key with one flipped byte', () => {
    const sealed = cipher.seal(SECRET, ROW_1);
    const tampered: SealedSecret = { ...sealed, wrappedDataKey: flipByte(sealed.wrappedDataKey, 20) };
    expect(() => cipher.open(tampered, ROW_1)).toThrow(SecretUnreadableError);
  });

  it('refuses a ciphertext copied onto another row (AAD of another row)', () => {
    const sealed = cipher.seal(SECRET, ROW_1);
    expect(() => cipher.open(sealed, ROW_2)).toThrow(SecretUnreadableError);
  });

  it('refuses a data key presented under another master key id (the wrap is bound to its key id)', () => {
    const ring = MasterKeyRing.parse(`a:${KEY_A},b:${KEY_A}`);
    const both = new EnvelopeCipher(ring);
    const sealed = both.seal(SECRET, ROW_1);
    expect(() => both.open({ ...sealed, masterKeyId: 'b' }, ROW_1)).toThrow(SecretUnreadableError);
  });

  it('refuses a secret sealed with a master key it does not hold, naming the key id', () => {
    const sealed = cipher.seal(SECRET, ROW_1);
    const other = new EnvelopeCipher(MasterKeyRing.parse(`b:${KEY_B}`));
    expect(() => other.open(sealed, ROW_1)).toThrow(/master key a is not configured/);
  });

  it('re-wraps a data key with the new active key: it opens with the new key alone and no longer names the old one', () => {
    const sealed = cipher.seal(SECRET, ROW_1);
    const rotating = new EnvelopeCipher(MasterKeyRing.parse(`b:${KEY_B},a:${KEY_A}`));
    const rewrapped = rotating.rewrap(sealed);
    expect(rewrapped.masterKeyId).toBe('b');
    expect(rewrapped.ciphertext.equals(sealed.ciphertext)).toBe(true);
    const onlyB = new EnvelopeCipher(MasterKeyRing.parse(`b:${KEY_B}`));
    expect(onlyB.open(rewrapped, ROW_1).toString()).toBe(SECRET.toString());
    expect(() => cipher.open(rewrapped, ROW_1)).toThrow(/master key b is not configured/);
  });

  it('refuses to re-wrap a data key whose wrap was tampered with', () => {
    const sealed = cipher.seal(SECRET, ROW_1);
    const rotating = new EnvelopeCipher(MasterKeyRing.parse(`b:${KEY_B},a:${KEY_A}`));
    expect(() => rotating.rewrap({ ...sealed, wrappedDataKey: flipByte(sealed.wrappedDataKey, 40) })).toThrow(SecretUnreadableError);
  });

  it('refuses data in an unknown format version', () => {
    const sealed = cipher.seal(SECRET, ROW_1);
    const future = Buffer.from(sealed.ciphertext);
    future[0] = 9;
    expect(() => cipher.open({ ...sealed, ciphertext: future }, ROW_1)).toThrow(/format/);
  });
});

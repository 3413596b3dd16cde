import { MIN_SECRET_LENGTH, REDACTED, SecretRedactor } from './secret-redactor.js';

// Has characters every encoding treats differently: / + = for base64 and URLs, " and \ for JSON.
const KEY = 'sk-Test/Key+With=Sym"bols\\0123';
const redactor = SecretRedactor.forSecrets([KEY]);
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const b64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

describe('SecretRedactor', () => {
  it.each([
    ['as is', KEY],
    ['upper case', KEY.toUpperCase()],
    ['lower case', KEY.toLowerCase()],
    ['base64', b64(KEY)],
    ['base64url', b64url(KEY)],
    ['hex', Buffer.from(KEY).toString('hex')],
    ['upper-case hex', Buffer.from(KEY).toString('hex').toUpperCase()],
    ['URL-encoded', encodeURIComponent(KEY)],
    ['URL-encoded with lower-case escapes', encodeURIComponent(KEY).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())],
    ['URL-encoded keeping the slash', encodeURIComponent(KEY).replaceAll('%2F', '/')],
    ['JSON-escaped', JSON.stringify(KEY).slice(1, -1)],
    ['JSON-escaped with an escaped slash', JSON.stringify(KEY).slice(1, -1).replaceAll('/', '\\/')],
  ])('removes the secret %s from a message', (_form, encoded) => {
    const message = `Incorrect API key provided: ${encoded}. You can find your API key at https://example.com.`;
    expect(message).toContain(encoded);
    expect(redactor.redact(message)).toBe(`Incorrect API key provided: ${REDACTED}. You can find your API key at https://example.com.`);
  });

  it.each(['', 'u', 'us', 'usr', 'user:', 'Bearer '])('removes the secret from a longer base64 text, after %j (every alignment)', (prefix) => {
    for (const encode of [b64, b64url]) {
      const encoded = encode(`${prefix}${KEY}!trailing`);
      const out = redactor.redact(`Authorization: Basic ${encoded}`);
      expect(out).toContain(REDACTED);
      // What is left of the base64 text decodes to no more than the bytes around the secret.
      const left = out.slice('Authorization: Basic '.length).split(REDACTED).join('');
      expect(left.length).toBeLessThanOrEqual(encode(prefix).length + encode('!trailing').length + 4);
    }
  });

  it('removes a non-ASCII secret written with \\u escapes (as Python json.dumps writes it)', () => {
    const secret = 'clé-secrète-🔑-42';
    const escaped = JSON.stringify(secret).slice(1, -1).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    expect(escaped).toContain('\\u00e9');
    const r = SecretRedactor.forSecrets([secret]);
    expect(r.redact(`{"key": "${escaped}"}`)).toBe(`{"key": "${REDACTED}"}`);
    expect(r.redact(`{"key": "${escaped.toUpperCase().replaceAll('\\U', '\\u')}"}`)).toBe(`{"key": "${REDACTED}"}`);
    expect(r.redact(`key=${encodeURIComponent(secret)}`)).toBe(`key=${REDACTED}`);
  });

  it('removes a secret with a space written in form encoding', () => {
    const r = SecretRedactor.forSecrets(['pass phrase 1234']);
    expect(r.redact('body: password=pass+phrase+1234&x=1')).toBe(`body: password=${REDACTED}&x=1`);
  });

  it('keeps the letters around a secret whose lower case is longer (İ)', () => {
    const r = SecretRedactor.forSecrets(['secret-value-0001']);
    expect(r.redact('İİ secret-value-0001 İ')).toBe(`İİ ${REDACTED} İ`);
  });

  it('removes every occurrence of every secret, the API key and header values alike', () => {
    const r = SecretRedactor.forSecrets(['sk-first-secret-0001', 'hv-second-secret-02']);
    expect(r.redact('a sk-first-secret-0001 b hv-second-secret-02 c SK-FIRST-SECRET-0001 d')).toBe(`a ${REDACTED} b ${REDACTED} c ${REDACTED} d`);
  });

  it('replaces overlapping secrets by their union, so no fragment of either is left', () => {
    const r = SecretRedactor.forSecrets(['abcdefgh-1234', '1234-ijklmnop']);
    expect(r.redact('x abcdefgh-1234-ijklmnop y')).toBe(`x ${REDACTED} y`);
    const nested = SecretRedactor.forSecrets(['inner-secret', 'outer-inner-secret-x']);
    expect(nested.redact('[outer-inner-secret-x] [inner-secret]')).toBe(`[${REDACTED}] [${REDACTED}]`);
  });

  it('replaces a secret repeated back to back once', () => {
    expect(redactor.redact(`${KEY}${KEY}`)).toBe(REDACTED);
  });

  it(`leaves values shorter than ${MIN_SECRET_LENGTH} characters alone, and redacts those of exactly ${MIN_SECRET_LENGTH}`, () => {
    const r = SecretRedactor.forSecrets(['true', 'abc1234', 'abcd1234']);
    expect(r.redact('true: abc1234 / abcd1234')).toBe(`true: abc1234 / ${REDACTED}`);
    expect(SecretRedactor.forSecrets(['true', 'beta']).isEmpty).toBe(true);
    expect(SecretRedactor.forSecrets(['true', 'beta']).redact('true beta')).toBe('true beta');
  });

  it('returns a text without any secret unchanged (the very string it was given)', () => {
    const text = 'The server had an error while processing your request. Sorry about that! sk-other-key-9999';
    const out = redactor.redact(text);
    expect(out).toBe(text);
    expect(SecretRedactor.NONE.redact(text)).toBe(text);
    expect(redactor.redact('')).toBe('');
  });

  it('is idempotent: redacting twice changes nothing more', () => {
    const once = redactor.redact(`${KEY} and ${b64(KEY)}`);
    expect(once).toBe(`${REDACTED} and ${REDACTED}`);
    expect(redactor.redact(once)).toBe(once);
  });

  it('tells whether it was built for the same secrets, so an unchanged connection keeps its redactor', () => {
    const r = SecretRedactor.forSecrets(['sk-abcdefgh', 'header-value-1']);
    expect(r.hasSecrets(['sk-abcdefgh', 'header-value-1'])).toBe(true);
    expect(r.hasSecrets(['sk-abcdefgh', 'header-value-2'])).toBe(false);
    expect(r.hasSecrets(['sk-abcdefgh'])).toBe(false);
  });
});

/** What a secret is replaced with. */
export const REDACTED = '[redacted]';

/**
 * Secret values shorter than this are not redacted. Connections carry extra headers that are not
 * credentials at all (`x-use-cache: true`, `api-version: 2024`); replacing every "true" in an error
 * message would garble it, and a value this short is not a credential worth hiding anyway.
 */
export const MIN_SECRET_LENGTH = 8;

/**
 * Removes a connection's secrets (API key, extra header values) from text an upstream sent, in the
 * forms an upstream is likely to echo them: as is in any letter case, base64 and base64url (also
 * as part of a longer base64 string, such as a Basic credential or `Bearer <key>` encoded whole),
 * hex, URL-encoded and JSON-escaped. Every form is found case-insensitively, which also covers
 * upper-case hex and percent-escapes.
 *
 * Built once per connection (the needles are precomputed); `redact` returns its argument as is
 * when no needle occurs, and a text shorter than the shortest needle costs one comparison.
 */
export class SecretRedactor {
  /** A redactor with nothing to remove. */
  static readonly NONE = new SecretRedactor([], []);

  /** Lower-cased needles, longest first. */
  private readonly needles: readonly string[];
  private readonly shortest: number;

  private constructor(
    /** The secrets as given, to tell whether a changed connection still has the same ones. */
    private readonly secrets: readonly string[],
    needles: readonly string[],
  ) {
    this.needles = [...new Set(needles.map(foldCase))].sort((a, b) => b.length - a.length);
    this.shortest = this.needles.length === 0 ? Infinity : this.needles[this.needles.length - 1]!.length;
  }

  /** A redactor for these secret values; values shorter than MIN_SECRET_LENGTH are left alone. */
  static forSecrets(secrets: readonly string[]): SecretRedactor {
    const kept = secrets.filter((s) => s.length >= MIN_SECRET_LENGTH);
    if (kept.length === 0) return secrets.length === 0 ? SecretRedactor.NONE : new SecretRedactor([...secrets], []);
    return new SecretRedactor([...secrets], kept.flatMap(encodedForms));
  }

  /** Whether this redactor was built for exactly these secrets (so a refreshed connection can keep it). */
  hasSecrets(secrets: readonly string[]): boolean {
    return secrets.length === this.secrets.length && secrets.every((s, i) => s === this.secrets[i]);
  }

  /** True when redaction can change nothing (no secret long enough). */
  get isEmpty(): boolean {
    return this.needles.length === 0;
  }

  /** The text with every occurrence of a secret, in any form, replaced by REDACTED. */
  redact(text: string): string {
    if (text.length < this.shortest) return text;
    const haystack = foldCase(text);
    let ranges: [number, number][] | undefined;
    for (const needle of this.needles) {
      for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) (ranges ??= []).push([at, at + needle.length]);
    }
    if (!ranges) return text;
    // Occurrences of different secrets (or forms) may overlap: replace their union, so no fragment survives.
    ranges.sort((a, b) => a[0] - b[0]);
    let out = '';
    let copied = 0;
    let [start, end] = ranges[0]!;
    for (let i = 1; i <= ranges.length; i++) {
      const next = ranges[i];
      if (next && next[0] <= end) {
        end = Math.max(end, next[1]);
        continue;
      }
      out += text.slice(copied, start) + REDACTED;
      copied = end;
      if (next) [start, end] = next;
    }
    return out + text.slice(copied);
  }
}

/**
 * Lower case with every position kept, so an index found in the folded text is valid in the
 * original. Lower-casing changes the length only for a few characters (İ becomes i + combining dot,
 * and no mapping shortens a string); those keep their case.
 */
function foldCase(text: string): string {
  const lower = text.toLowerCase();
  if (lower.length === text.length) return lower;
  let out = '';
  for (const ch of text) {
    const l = ch.toLowerCase();
    out += l.length === ch.length ? l : ch;
  }
  return out;
}

/** Characters base64 cannot tell from its neighbours when the secret starts 0, 1 or 2 bytes into a 3-byte group. */
const BASE64_SKIP = [0, 2, 3] as const;

/** The forms of one secret an upstream may echo (duplicates are removed by the caller). */
function encodedForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const json = JSON.stringify(secret).slice(1, -1);
  const uri = encodeURIComponent(secret);
  const forms = [
    secret,
    json,
    json.replaceAll('/', '\\/'), // PHP's json_encode and others escape the slash
    json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`), // Python's ensure_ascii
    uri,
    uri.replaceAll('%2F', '/'), // Python's quote() keeps the slash
    uri.replaceAll('%20', '+'), // form encoding
    bytes.toString('hex'),
  ];
  // Inside a longer base64 text (`Basic base64(user:key)`, `base64("Bearer " + key)`) the secret
  // starts at any of three offsets within a 3-byte group. For each, the characters that depend on
  // the secret's bytes alone: skip those mixed with the bytes before it, and end before the one
  // mixed with the bytes after it.
  for (let offset = 0; offset < 3; offset++) {
    const shifted = Buffer.concat([Buffer.alloc(offset), bytes]);
    const b64 = shifted.toString('base64').slice(BASE64_SKIP[offset], Math.floor((shifted.length * 4) / 3));
    forms.push(b64, b64.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return forms;
}

import type { CallWarning } from '../adapter-v2.js';
import type { ProviderOptions } from '../canonical.js';

/** A client's request in canonical form, or the one problem to answer 400 with (in the client's format). */
export type ClientRequestDecoded<T> = { value: T; warnings: CallWarning[] } | { invalid: { param: string; message: string } };

/** Thrown inside a request decoder to stop at the first bad field; never escapes the decoder. */
export class InvalidClientRequest extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

export function decodeClientRequest<T>(decode: (warnings: CallWarning[]) => T): ClientRequestDecoded<T> {
  const warnings: CallWarning[] = [];
  try {
    return { value: decode(warnings), warnings };
  } catch (err) {
    if (err instanceof InvalidClientRequest) return { invalid: { param: err.param, message: err.message } };
    return { invalid: { param: 'body', message: err instanceof Error ? err.message : String(err) } };
  }
}

/** Collects warnings once per setting, however many messages carry it. */
export class WarningSink {
  private readonly seen = new Set<string>();
  constructor(readonly warnings: CallWarning[] = []) {}

  unsupported(setting: string, details?: string): void {
    if (this.seen.has(setting)) return;
    this.seen.add(setting);
    this.warnings.push(details === undefined ? { type: 'unsupported-setting', setting } : { type: 'unsupported-setting', setting, details });
  }

  other(message: string): void {
    if (this.seen.has(message)) return;
    this.seen.add(message);
    this.warnings.push({ type: 'other', message });
  }

  /** Every format-specific option meant for another format: this one cannot honour them. */
  foreignOptions(options: ProviderOptions | undefined, ownFormat: string, where = ''): void {
    if (!options) return;
    for (const [format, fields] of Object.entries(options)) {
      if (format === ownFormat) continue;
      for (const key of Object.keys(fields)) this.unsupported(`${where}${key}`, `an option only ${format} understands`);
    }
  }
}

/** One event a response writer sends: `data` is a JSON value, or OpenAI's `[DONE]` literal. */
export interface OutgoingSseEvent<T = unknown> {
  event?: string;
  data: T | '[DONE]';
  /**
   * `data` already as its JSON text, exactly JSON.stringify(data), written as is: an encoder's
   * content events (most of a translated stream) are written from a cached prefix and the text.
   */
  json?: string;
}

/**
 * An event an encoder writes from its JSON text (the content events of a translated stream, most of
 * it): `data` is parsed from the text only if someone reads it, so writing one builds no objects.
 */
export class JsonSseEvent<T> implements OutgoingSseEvent<T> {
  constructor(
    readonly json: string,
    readonly event?: string,
  ) {}

  get data(): T {
    return JSON.parse(this.json) as T;
  }
}

/** The event as SSE text, ready to write. */
export function formatSseEvent(e: OutgoingSseEvent): string {
  const data = e.json ?? (e.data === '[DONE]' ? '[DONE]' : JSON.stringify(e.data));
  return e.event === undefined ? `data: ${data}\n\n` : `event: ${e.event}\ndata: ${data}\n\n`;
}

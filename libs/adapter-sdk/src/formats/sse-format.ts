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

/** The event as SSE text, ready to write. */
export function formatSseEvent(e: OutgoingSseEvent): string {
  const data = e.json ?? (e.data === '[DONE]' ? '[DONE]' : JSON.stringify(e.data));
  return e.event === undefined ? `data: ${data}\n\n` : `event: ${e.event}\ndata: ${data}\n\n`;
}

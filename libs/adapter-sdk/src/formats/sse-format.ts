/** One event a response writer sends: `data` is a JSON value, or OpenAI's `[DONE]` literal. */
export interface OutgoingSseEvent<T = unknown> {
  event?: string;
  data: T | '[DONE]';
}

/** The event as SSE text, ready to write. */
export function formatSseEvent(e: OutgoingSseEvent): string {
  const data = e.data === '[DONE]' ? '[DONE]' : JSON.stringify(e.data);
  return e.event === undefined ? `data: ${data}\n\n` : `event: ${e.event}\ndata: ${data}\n\n`;
}

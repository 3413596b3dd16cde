import { adapterError, retryAfterMs } from './error-helpers.js';

describe('retryAfterMs', () => {
  const now = Date.parse('2026-12-07T04:00:00Z');

  it('reads retry-after-ms first, then retry-after in seconds or as an HTTP date', () => {
    expect(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '9' }, now)).toBe(250);
    expect(retryAfterMs({ 'retry-after': '12' }, now)).toBe(12_000);
    expect(retryAfterMs({ 'retry-after': '0.5' }, now)).toBe(500);
    expect(retryAfterMs({ 'retry-after': 'Mon, 07 Dec 2026 04:00:30 GMT' }, now)).toBe(30_000);
  });

  it('gives undefined for an absent or unreadable header, never NaN', () => {
    expect(retryAfterMs({}, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
  });
});

describe('adapterError', () => {
  it('marks only rate limits, overloads and upstream failures retryable', () => {
    const kinds = ['auth', 'rate_limited', 'context_length', 'content_filter', 'overloaded', 'bad_request', 'upstream_error'] as const;
    expect(kinds.filter((k) => adapterError(k, 'x').retryable)).toEqual(['rate_limited', 'overloaded', 'upstream_error']);
  });
});

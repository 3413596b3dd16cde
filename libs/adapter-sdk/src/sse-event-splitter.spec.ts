import { SseEventSplitter, sseData } from './sse-event-splitter.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('SseEventSplitter', () => {
  it('returns events as soon as their blank line arrives and keeps the incomplete rest', () => {
    const s = new SseEventSplitter();
    expect(s.push(bytes('data: {"a":1}\n\ndata: {"b"'))).toEqual(['data: {"a":1}\n\n']);
    expect(s.push(bytes(':2}\n\n'))).toEqual(['data: {"b":2}\n\n']);
    expect(s.flush()).toBe('');
  });

  it('handles CRLF framing and a multi-byte character cut between chunks', () => {
    const s = new SseEventSplitter();
    const all = bytes('data: é\r\n\r\n');
    expect(s.push(all.slice(0, 7))).toEqual([]);
    expect(s.push(all.slice(7))).toEqual(['data: é\r\n\r\n']);
  });

  it('keeps a trailing event without its blank line for flush', () => {
    const s = new SseEventSplitter();
    expect(s.push(bytes('data: [DONE]\n'))).toEqual([]);
    expect(s.flush()).toBe('data: [DONE]\n');
  });
});

describe('sseData', () => {
  it('joins data lines and ignores comments and other fields', () => {
    expect(sseData('event: x\ndata: a\ndata:b\n\n')).toBe('a\nb');
    expect(sseData(': keep-alive\n\n')).toBeUndefined();
  });
});

import { SliceWriter, SseEventSplitter, sseData } from './sse-event-splitter.js';

const text = (events: { bytes: Buffer }[]): string[] => events.map((e) => e.bytes.toString('utf8'));

describe('SseEventSplitter', () => {
  it('returns events as soon as their blank line arrives and keeps the incomplete rest', () => {
    const s = new SseEventSplitter();
    expect(text(s.push(Buffer.from('data: {"a":1}\n\ndata: {"b"')))).toEqual(['data: {"a":1}\n\n']);
    expect(text(s.push(Buffer.from(':2}\n\n')))).toEqual(['data: {"b":2}\n\n']);
    expect(s.flush()).toBeNull();
  });

  it('handles CRLF framing and a multi-byte character cut between chunks', () => {
    const s = new SseEventSplitter();
    const all = Buffer.from('data: é\r\n\r\n');
    expect(s.push(all.subarray(0, 7))).toEqual([]);
    expect(text(s.push(all.subarray(7)))).toEqual(['data: é\r\n\r\n']);
  });

  it('returns slices of the received bytes, not copies, when a chunk holds whole events', () => {
    const chunk = Buffer.from('data: 1\n\ndata: 2\n\n');
    const events = new SseEventSplitter().push(chunk);
    expect(events).toHaveLength(2);
    expect(events[1].bytes.buffer).toBe(chunk.buffer);
    expect(events[1].latin1).toBe('data: 2\n\n');
  });

  it('keeps a trailing event without its blank line for flush', () => {
    const s = new SseEventSplitter();
    expect(s.push(Buffer.from('data: [DONE]\n'))).toEqual([]);
    expect(s.flush()?.toString()).toBe('data: [DONE]\n');
  });
});

describe('SliceWriter', () => {
  it('merges adjacent slices into one write and keeps a gap where an event was left out', () => {
    const chunk = Buffer.from('AAABBBCCC');
    const writes: string[] = [];
    const w = new SliceWriter((b) => writes.push(b.toString()));
    w.add(chunk.subarray(0, 3));
    w.add(chunk.subarray(3, 6));
    w.add(chunk.subarray(6, 9));
    w.flush();
    expect(writes).toEqual(['AAABBBCCC']);
    writes.length = 0;
    w.add(chunk.subarray(0, 3));
    w.add(chunk.subarray(6, 9)); // BBB skipped
    w.flush();
    expect(writes).toEqual(['AAA', 'CCC']);
  });
});

describe('sseData', () => {
  it('joins data lines and ignores comments and other fields', () => {
    expect(sseData('event: x\ndata: a\ndata:b\n\n')).toBe('a\nb');
    expect(sseData(': keep-alive\n\n')).toBeUndefined();
  });
});

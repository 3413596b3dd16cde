import { parseEffectiveFrom } from './effective-from.js';

describe('parseEffectiveFrom', () => {
  it('reads a date-time without an offset as UTC, not as the server’s local time', () => {
    expect(parseEffectiveFrom('2025-03-01T12:30:00').toISOString()).toBe('2025-03-01T12:30:00.000Z');
  });

  it('honours an explicit offset', () => {
    expect(parseEffectiveFrom('2025-03-01T12:30:00+02:00').toISOString()).toBe('2025-03-01T10:30:00.000Z');
  });

  it('refuses what is no instant', () => {
    expect(() => parseEffectiveFrom('2025-W09-6')).toThrow(/effectiveFrom/);
  });
});

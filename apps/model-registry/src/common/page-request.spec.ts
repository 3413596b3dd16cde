import { AppError } from '#libs/contracts';
import { encodeCursor, pageRequest } from './page-request.js';

describe('pageRequest', () => {
  it('defaults to 50 rows and serves at most 200', () => {
    expect(pageRequest(undefined).limit).toBe(50);
    expect(pageRequest({ limit: 1000 }).limit).toBe(200);
    expect(pageRequest({ limit: '20' as never }).limit).toBe(20);
  });

  it('refuses a limit below 1 or not a whole number, naming limit', () => {
    for (const limit of [0, -1, 2.5, 'ten']) {
      expect(() => pageRequest({ limit: limit as never })).toThrow(expect.objectContaining({ code: 'validation_failed', details: [expect.objectContaining({ field: 'limit' })] }));
    }
  });

  it('reads back the key a cursor was made from', () => {
    const key = { createdAt: new Date('2025-01-02T03:04:05.678Z'), id: 'pm_abc' };
    expect(pageRequest({ cursor: encodeCursor(key) }).after).toEqual(key);
  });

  it('refuses a cursor it did not make, naming cursor', () => {
    const err = (() => {
      try {
        pageRequest({ cursor: 'not-a-cursor' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).details).toEqual([expect.objectContaining({ field: 'cursor' })]);
  });
});

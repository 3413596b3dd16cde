import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { AppError, ErrorCode } from '#libs/contracts';
import { firstValueFrom } from 'rxjs';
import { BusExceptionFilter } from './bus-exception.filter.js';

async function replyFor(exception: unknown): Promise<{ reply: unknown; logged: string[] }> {
  const logged: string[] = [];
  const spy = jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void logged.push(String(message)));
  try {
    const reply = await firstValueFrom(new BusExceptionFilter().catch(exception)).catch((err: unknown) => err);
    return { reply, logged };
  } finally {
    spy.mockRestore();
  }
}

describe('BusExceptionFilter', () => {
  it('relays an expected AppError intact', async () => {
    const { reply, logged } = await replyFor(AppError.notFound('connection', 'conn_1'));
    expect(reply).toEqual({ code: 'not_found', message: 'connection conn_1 not found', details: { id: 'conn_1' } });
    expect(logged).toEqual([]);
  });

  it.each([
    ['a database error', new Error('relation "vault.connections" does not exist at SELECT * FROM connections')],
    ['an internal AppError with decrypt detail', new AppError(ErrorCode.Internal, 'unsupported state or unable to authenticate data', { key: 'a' })],
  ])('relays %s only as "internal error", keeping the detail in the log', async (_what, exception) => {
    const { reply, logged } = await replyFor(exception);
    expect(reply).toEqual({ code: 'internal', message: 'internal error' });
    expect(logged.join('\n')).toContain((exception as Error).message);
  });
});

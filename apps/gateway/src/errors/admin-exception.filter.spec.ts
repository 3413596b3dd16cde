import { jest } from '@jest/globals';
import { Logger, NotFoundException, type ArgumentsHost } from '@nestjs/common';
import { AppError, ErrorCode } from '#libs/contracts';
import { AdminExceptionFilter } from './admin-exception.filter.js';

const SQL_DETAIL = 'duplicate key value violates unique constraint "api_keys_key_hash_key": INSERT INTO api_keys VALUES ($1)';

function answer(exception: unknown): { status: number; headers: Record<string, string>; body: { error: { code: string; message: string; details?: unknown } }; logged: string[] } {
  const out = { status: 0, headers: {} as Record<string, string>, body: undefined as never, logged: [] as string[] };
  const reply = {
    status(s: number) {
      out.status = s;
      return reply;
    },
    header(name: string, value: string) {
      out.headers[name] = value;
      return reply;
    },
    send(body: never) {
      out.body = body;
      return reply;
    },
  };
  const request = { id: '6f1c2d3e-0000-4000-8000-00000000abcd', method: 'POST', url: '/admin/gateway-keys?x=1' };
  const host = { switchToHttp: () => ({ getResponse: () => reply, getRequest: () => request }) } as unknown as ArgumentsHost;
  const spy = jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void out.logged.push(String(message)));
  try {
    new AdminExceptionFilter().catch(exception, host);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('AdminExceptionFilter', () => {
  it.each([
    ['an unexpected error', new Error(SQL_DETAIL)],
    ['an internal AppError (e.g. one that crossed the bus)', new AppError(ErrorCode.Internal, SQL_DETAIL, { sql: SQL_DETAIL })],
  ])('answers %s with a generic message naming the request id, and logs the detail under that id', (_what, exception) => {
    const out = answer(exception);
    expect(out.status).toBe(500);
    expect(out.headers['x-request-id']).toBe('6f1c2d3e-0000-4000-8000-00000000abcd');
    expect(out.body.error).toEqual({
      code: 'internal',
      message: 'internal error; quote request id 6f1c2d3e-0000-4000-8000-00000000abcd to your operator',
      details: { requestId: '6f1c2d3e-0000-4000-8000-00000000abcd' },
    });
    expect(JSON.stringify(out.body)).not.toContain('api_keys');
    expect(out.logged).toHaveLength(1);
    expect(out.logged[0]).toContain('6f1c2d3e-0000-4000-8000-00000000abcd');
    expect(out.logged[0]).toContain('unique constraint');
  });

  it('passes an expected error through with its code and message, and the request id header', () => {
    const out = answer(new AppError(ErrorCode.Forbidden, 'a key scoped to project a cannot create rows in project b'));
    expect(out.status).toBe(403);
    expect(out.headers['x-request-id']).toBe('6f1c2d3e-0000-4000-8000-00000000abcd');
    expect(out.body.error).toEqual({ code: 'forbidden', message: 'a key scoped to project a cannot create rows in project b' });
    expect(out.logged).toEqual([]);
  });

  it('names an unknown route without its query string', () => {
    const out = answer(new NotFoundException());
    expect(out.body.error).toEqual({ code: 'not_found', message: 'no route POST /admin/gateway-keys' });
  });
});

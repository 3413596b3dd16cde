import type { ClientNats } from '@nestjs/microservices';
import { EmptyResponseException } from '@nestjs/microservices/errors/empty-response.exception.js';
import { defer, of, throwError, type Observable } from 'rxjs';
import { AppError, ErrorCode } from '#libs/contracts';
import { BusClient } from './bus-client.js';

/** A NATS client proxy whose answers the test scripts: each send() takes the next one. */
function proxyAnswering(...answers: (() => Observable<unknown>)[]): { proxy: ClientNats; sends: () => number } {
  let sent = 0;
  const proxy = {
    send: () =>
      defer(() => {
        const answer = answers[Math.min(sent, answers.length - 1)]!;
        sent++;
        return answer();
      }),
  } as unknown as ClientNats;
  return { proxy, sends: () => sent };
}

const noResponders = (): Observable<never> => throwError(() => new EmptyResponseException('vault.v1.ping'));

describe('BusClient.request', () => {
  it('sends again when no service was subscribed yet (one starting up), and returns the answer', async () => {
    const { proxy, sends } = proxyAnswering(noResponders, noResponders, () => of({ service: 'credential-vault', ok: true }));
    const bus = new BusClient(proxy, { requestTimeoutMs: 2000 });
    await expect(bus.request('vault.v1.ping', {})).resolves.toEqual({ service: 'credential-vault', ok: true });
    expect(sends()).toBe(3);
  });

  it('gives up with unavailable, naming the subject, when nobody subscribes within the timeout', async () => {
    const { proxy, sends } = proxyAnswering(noResponders);
    const bus = new BusClient(proxy, { requestTimeoutMs: 300 });
    const started = performance.now();
    const failure = await bus.request('vault.v1.ping', {}).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({ code: ErrorCode.Unavailable, message: 'no service subscribed to vault.v1.ping within 300 ms' });
    // Gives up near the 300 ms timeout (with room for a busy machine), not after some longer default.
    expect(performance.now() - started).toBeLessThan(1500);
    expect(sends()).toBeGreaterThan(2);
  });

  it('does not send again after any other failure: the service may have acted on it', async () => {
    const { proxy, sends } = proxyAnswering(() => throwError(() => ({ code: ErrorCode.Conflict, message: 'a connection named x already exists' })));
    const bus = new BusClient(proxy, { requestTimeoutMs: 2000 });
    await expect(bus.request('vault.v1.ping', {})).rejects.toMatchObject({ code: ErrorCode.Conflict });
    expect(sends()).toBe(1);
  });
});

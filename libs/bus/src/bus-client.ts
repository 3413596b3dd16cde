import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ClientNats } from '@nestjs/microservices';
import { EmptyResponseException } from '@nestjs/microservices/errors/empty-response.exception.js';
import {
  AppError,
  ErrorCode,
  type CommandRequest,
  type CommandResponse,
  type CommandSubject,
  type Events,
  type EventSubject,
} from '#libs/contracts';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';

export const BUS_CLIENT_PROXY = Symbol('BUS_CLIENT_PROXY');
export const BUS_OPTIONS = Symbol('BUS_OPTIONS');

export interface BusOptions {
  requestTimeoutMs: number;
}

/** Back-off between sends of a request nobody was subscribed to: 10, 20, 40 ... ms, at most 200. */
const NO_RESPONDERS_FIRST_DELAY_MS = 10;
const NO_RESPONDERS_MAX_DELAY_MS = 200;

/** Typed request/reply and pub/sub over whichever transport the process uses. */
@Injectable()
export class BusClient implements OnApplicationShutdown {
  private readonly logger = new Logger(BusClient.name);

  constructor(
    @Inject(BUS_CLIENT_PROXY) private readonly proxy: ClientNats,
    @Inject(BUS_OPTIONS) private readonly options: BusOptions,
  ) {}

  async connect(): Promise<void> {
    await this.proxy.connect();
  }

  /**
   * Sends a command and waits for its answer, at most `timeoutMs` in all. When no service is
   * subscribed to the subject at that moment (one starting, or restarting in a rolling deploy,
   * has not registered its subscription with NATS yet), NATS says so at once and nobody received
   * the request, so it is sent again, with a short back-off, until the time is up.
   */
  async request<S extends CommandSubject>(subject: S, payload: CommandRequest<S>, timeoutMs = this.options.requestTimeoutMs): Promise<CommandResponse<S>> {
    const deadline = performance.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const left = Math.max(1, deadline - performance.now());
        return await firstValueFrom(this.proxy.send<CommandResponse<S>, CommandRequest<S>>(subject, payload).pipe(timeout(left)));
      } catch (err) {
        const delay = Math.min(NO_RESPONDERS_FIRST_DELAY_MS * 2 ** attempt, NO_RESPONDERS_MAX_DELAY_MS);
        if (!(err instanceof EmptyResponseException) || performance.now() + delay >= deadline) throw toAppError(subject, err, timeoutMs);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async publish<S extends EventSubject>(subject: S, event: Events[S]): Promise<void> {
    await firstValueFrom(this.proxy.emit<void, Events[S]>(subject, event), { defaultValue: undefined });
  }

  /** Publishes and logs a failure instead of throwing: for change events after a committed write. */
  publishAfterCommit<S extends EventSubject>(subject: S, event: Events[S]): void {
    this.publish(subject, event).catch((err: unknown) => this.logger.error(`could not publish ${subject}: ${String(err)}`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.proxy.close();
  }
}

function toAppError(subject: string, err: unknown, timeoutMs: number): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof TimeoutError) {
    return new AppError(ErrorCode.Unavailable, `no answer on ${subject} within ${timeoutMs} ms`);
  }
  if (err instanceof EmptyResponseException) {
    return new AppError(ErrorCode.Unavailable, `no service subscribed to ${subject} within ${timeoutMs} ms`);
  }
  if (typeof err === 'object' && err !== null && 'code' in err && AppError.isErrorCode((err as { code: unknown }).code)) {
    const e = err as { code: ErrorCode; message?: unknown; details?: unknown };
    // The answering service logged the detail; even if one (an older version) sent it along, it goes no further.
    if (e.code === ErrorCode.Internal) return new AppError(ErrorCode.Internal, 'internal error');
    return new AppError(e.code, typeof e.message === 'string' ? e.message : e.code, e.details);
  }
  return new AppError(ErrorCode.Unavailable, `bus request ${subject} failed`);
}

import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ClientNats } from '@nestjs/microservices';
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

  async request<S extends CommandSubject>(subject: S, payload: CommandRequest<S>, timeoutMs = this.options.requestTimeoutMs): Promise<CommandResponse<S>> {
    try {
      return await firstValueFrom(this.proxy.send<CommandResponse<S>, CommandRequest<S>>(subject, payload).pipe(timeout(timeoutMs)));
    } catch (err) {
      throw toAppError(subject, err, timeoutMs);
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
  if (typeof err === 'object' && err !== null && 'code' in err && AppError.isErrorCode((err as { code: unknown }).code)) {
    const e = err as { code: ErrorCode; message?: unknown; details?: unknown };
    return new AppError(e.code, typeof e.message === 'string' ? e.message : e.code, e.details);
  }
  return new AppError(ErrorCode.Unavailable, `bus request ${subject} failed`);
}

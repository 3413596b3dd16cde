import { Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { AppError, ErrorCode } from '#libs/contracts';
import { throwError, type Observable } from 'rxjs';

/** What every internal failure looks like on the bus: its detail stays in this service's log. */
export const INTERNAL_ERROR_REPLY = { code: ErrorCode.Internal, message: 'internal error' } as const;

/**
 * Sends an expected AppError back to the caller intact ({code, message, details}). An `internal`
 * AppError and anything else (a TypeORM error with its SQL, a stack, a decrypt failure) is logged
 * here and crosses the bus only as INTERNAL_ERROR_REPLY, so no internal text reaches a client.
 */
@Catch()
export class BusExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('Bus');

  catch(exception: unknown): Observable<never> {
    if (exception instanceof AppError && exception.code !== ErrorCode.Internal) {
      return throwError(() => ({ code: exception.code, message: exception.message, details: exception.details }));
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return throwError(() => ({ ...INTERNAL_ERROR_REPLY }));
  }
}

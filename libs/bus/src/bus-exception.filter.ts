import { Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { AppError, ErrorCode } from '#libs/contracts';
import { throwError, type Observable } from 'rxjs';

/** Sends an AppError back to the caller intact ({code, message, details}); anything else becomes `internal`. */
@Catch()
export class BusExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('Bus');

  catch(exception: unknown): Observable<never> {
    if (exception instanceof AppError) {
      return throwError(() => ({ code: exception.code, message: exception.message, details: exception.details }));
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return throwError(() => ({ code: ErrorCode.Internal, message: 'internal error' }));
  }
}

import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { AppError, ERROR_STATUS, ErrorCode } from '#libs/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';

const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  [HttpStatus.BAD_REQUEST]: ErrorCode.ValidationFailed,
  [HttpStatus.UNAUTHORIZED]: ErrorCode.Unauthorized,
  [HttpStatus.FORBIDDEN]: ErrorCode.Forbidden,
  [HttpStatus.NOT_FOUND]: ErrorCode.NotFound,
  [HttpStatus.CONFLICT]: ErrorCode.Conflict,
  [HttpStatus.PAYLOAD_TOO_LARGE]: ErrorCode.PayloadTooLarge,
  [HttpStatus.TOO_MANY_REQUESTS]: ErrorCode.RateLimited,
  [HttpStatus.SERVICE_UNAVAILABLE]: ErrorCode.Unavailable,
};

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Every error of the admin API and the probes leaves as {"error": {code, message, details}} with
 * the request id in `x-request-id`: AppErrors (also those that crossed the bus) keep their code;
 * Nest's own HTTP errors (unknown route, malformed JSON, body too large) get the nearest code.
 * An `internal` error, local or from another service, and anything unexpected is logged with the
 * request id and its detail, and answered with a generic message naming only that id: no SQL,
 * stack or decrypt detail reaches the client.
 */
@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('AdminApi');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const error = this.publicError(this.toAppError(exception, request), exception, request);
    void reply
      .status(ERROR_STATUS[error.code])
      .header('content-type', 'application/json; charset=utf-8')
      .header(REQUEST_ID_HEADER, String(request.id))
      .send(error.toBody());
  }

  private publicError(error: AppError, exception: unknown, request: FastifyRequest): AppError {
    if (error.code !== ErrorCode.Internal) return error;
    const detail = exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
    this.logger.error(`${request.method} ${request.url.split('?')[0]} (request ${request.id}): ${detail}`);
    return new AppError(ErrorCode.Internal, `internal error; quote request id ${request.id} to your operator`, { requestId: String(request.id) });
  }

  private toAppError(exception: unknown, request: FastifyRequest): AppError {
    if (exception instanceof AppError) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = STATUS_CODES[status] ?? (status >= 500 ? ErrorCode.Internal : ErrorCode.ValidationFailed);
      const message = status === HttpStatus.NOT_FOUND ? `no route ${request.method} ${request.url.split('?')[0]}` : exception.message;
      return new AppError(code, message);
    }
    const fastifyStatus = (exception as { statusCode?: unknown }).statusCode;
    if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
      // Fastify's own client errors: malformed JSON, unsupported media type, body too large.
      return new AppError(STATUS_CODES[fastifyStatus] ?? ErrorCode.ValidationFailed, (exception as Error).message);
    }
    return new AppError(ErrorCode.Internal, 'internal error');
  }
}

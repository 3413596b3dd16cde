/**
 * The machine-readable error codes of the admin API and of every bus command.
 * One map gives each its HTTP status; the compiler fails when a code has none.
 */
export enum ErrorCode {
  ValidationFailed = 'validation_failed',
  Unauthorized = 'unauthorized',
  Forbidden = 'forbidden',
  NotFound = 'not_found',
  Conflict = 'conflict',
  PayloadTooLarge = 'payload_too_large',
  RateLimited = 'rate_limited',
  Unavailable = 'unavailable',
  Internal = 'internal',
}

export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.ValidationFailed]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.Internal]: 500,
};

export interface FieldError {
  field: string;
  messages: string[];
}

/** The body of every /admin error: {"error": {"code", "message", "details"}}. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** The one exception every service throws for an expected failure; it crosses the bus intact. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  static notFound(what: string, id: string): AppError {
    return new AppError(ErrorCode.NotFound, `${what} ${id} not found`, { id });
  }

  static validation(fields: FieldError[]): AppError {
    const message = fields.map((f) => `${f.field}: ${f.messages.join('; ')}`).join('. ');
    return new AppError(ErrorCode.ValidationFailed, message, fields);
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }

  static isErrorCode(value: unknown): value is ErrorCode {
    return typeof value === 'string' && (Object.values(ErrorCode) as string[]).includes(value);
  }
}

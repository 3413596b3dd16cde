import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AppError, ErrorCode } from '#libs/contracts';
import type { FastifyRequest } from 'fastify';
import { ReadModelService } from '../read-model/read-model.service.js';
import { bearerToken, type Principal } from './principal.js';

export type AdminRequest = FastifyRequest & { principal?: Principal };

/** /admin needs an admin key: none or an unknown one is 401, a client key is 403. */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(private readonly readModel: ReadModelService) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AdminRequest>();
    const token = bearerToken(request.headers);
    if (!token) throw new AppError(ErrorCode.Unauthorized, 'missing admin credential: send Authorization: Bearer <admin key>');
    const principal = this.readModel.principalForKey(token);
    if (!principal) throw new AppError(ErrorCode.Unauthorized, 'invalid or revoked key');
    if (principal.role !== 'admin') throw new AppError(ErrorCode.Forbidden, 'this key may call /v1 only; /admin needs an admin key');
    request.principal = principal;
    return true;
  }
}

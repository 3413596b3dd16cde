import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AppError, ErrorCode } from '#libs/contracts';
import { AuditLog } from '#libs/db';
import { ANONYMOUS_ACTOR, type AuditActor } from '#libs/tenancy';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { attemptedAdminAction } from '../audit/attempted-admin-action.js';
import { REQUEST_ID_HEADER } from '../errors/admin-exception.filter.js';
import { ReadModelService } from '../read-model/read-model.service.js';
import { bearerToken, expiredKeyMessage, isExpired, type Principal } from './principal.js';

export type AdminRequest = FastifyRequest & { principal?: Principal };

/**
 * /admin needs an admin key: none or an unknown one is 401, a client key is 403. A refused attempt
 * at a route that changes or reveals something is audited (actor 'anonymous' without a known key).
 * Every /admin answer carries the request id (errors get it from the exception filter).
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    private readonly readModel: ReadModelService,
    private readonly audit: AuditLog,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AdminRequest>();
    void context.switchToHttp().getResponse<FastifyReply>().header(REQUEST_ID_HEADER, String(request.id));
    const token = bearerToken(request.headers);
    if (!token) throw this.refused(request, ANONYMOUS_ACTOR, null, ErrorCode.Unauthorized, 'missing admin credential: send Authorization: Bearer <admin key>');
    const principal = this.readModel.principalForKey(token);
    if (!principal) throw this.refused(request, ANONYMOUS_ACTOR, null, ErrorCode.Unauthorized, 'invalid or revoked key');
    if (isExpired(principal)) throw this.refused(request, principal, principal, ErrorCode.Unauthorized, expiredKeyMessage(principal));
    if (principal.role !== 'admin') {
      throw this.refused(request, principal, principal, ErrorCode.Forbidden, 'this key may call /v1 only; /admin needs an admin key');
    }
    request.principal = principal;
    return true;
  }

  private refused(request: AdminRequest, actor: AuditActor, principal: Principal | null, code: ErrorCode, message: string): AppError {
    const action = attemptedAdminAction(request.method, request.routeOptions.url);
    if (action !== null) {
      const targetId = (request.params as { id?: unknown } | undefined)?.id;
      this.audit.recordAttempt({
        organisationId: principal?.organisationId ?? null,
        projectId: principal?.projectId ?? null,
        actor: { keyId: actor.keyId, name: actor.name },
        actorProjectId: principal?.projectId ?? null,
        action,
        targetId: typeof targetId === 'string' ? targetId.slice(0, 64) : null,
        outcome: 'denied',
        reason: message,
      });
    }
    return new AppError(code, message);
  }
}

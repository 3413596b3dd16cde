import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AdminRequest } from './admin-auth.guard.js';
import type { Principal } from './principal.js';

export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AdminRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without AdminAuthGuard');
  return principal;
});

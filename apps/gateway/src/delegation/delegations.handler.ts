import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { checkedEnvelope, CommandHandler } from '#libs/bus';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { AppError, ErrorCode, QUEUE_GROUPS, type CommandResponse } from '#libs/contracts';
import { GatewayAddress } from '../playground/gateway-address.js';
import { ReadModelService } from '../read-model/read-model.service.js';
import { DELEGATED_TOKEN_TTL_MS, DelegatedTokens } from './delegated-tokens.js';

/** gateway.v1.delegations.mint: a short-lived /v1 token acting as the envelope's admin key, in its scope (see DelegatedTokens). */
@Controller()
export class DelegationsHandler {
  constructor(
    private readonly readModel: ReadModelService,
    private readonly tokens: DelegatedTokens,
    private readonly address: GatewayAddress,
    @Inject(APP_CONFIG) private readonly config: Readonly<AppConfig>,
  ) {}

  @CommandHandler('gateway.v1.delegations.mint', QUEUE_GROUPS.gateway)
  mint(@Payload() payload: unknown): CommandResponse<'gateway.v1.delegations.mint'> {
    const { scope, actor } = checkedEnvelope(payload);
    const admin = this.readModel.principalForKeyId(actor.keyId);
    // Only an admin key that is still active, acting within its own scope, can be delegated.
    if (!admin || admin.role !== 'admin' || admin.organisationId !== scope.organisationId || admin.projectId !== scope.projectId) {
      throw new AppError(ErrorCode.Forbidden, `key ${actor.keyId} is not an active admin key of this scope; nothing can act on its behalf`);
    }
    const expiresAtMs = Date.now() + DELEGATED_TOKEN_TTL_MS;
    return {
      token: this.tokens.mint({ ...scope, keyId: admin.keyId, expiresAtMs }),
      gatewayUrl: this.config.gatewayUrl ?? this.address.url,
      expiresAt: new Date(expiresAtMs).toISOString(),
    };
  }
}

import { Injectable } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import type { CommandEnvelope, TenantScope } from '#libs/contracts';

export interface GatewayCredentials {
  url: string;
  /** A delegated token (sk-gw-dlg.…): /v1 only, acting as the admin who started the work, in its scope. */
  token: string;
}

/** A token this close to its expiry is replaced before use, so a call never starts with one about to lapse. */
const REFRESH_BEFORE_MS = 2 * 60_000;

/**
 * The evaluator's identity towards the gateway's /v1: never the admin's key (it does not travel on
 * the bus), but a short-lived token a gateway mints for the admin key named in the command's actor
 * (gateway.v1.delegations.mint). Tokens are cached per key and scope and asked for again before
 * they expire, so a long run or a run resumed after a restart keeps working for as long as the
 * admin's key stays active, and stops when it is revoked.
 */
@Injectable()
export class GatewayIdentity {
  private readonly cache = new Map<string, { credentials: GatewayCredentials; expiresAtMs: number }>();
  /** Mints under way: the rows of a run starting together share one request. */
  private readonly minting = new Map<string, Promise<GatewayCredentials>>();

  constructor(private readonly bus: BusClient) {}

  async credentialsFor(scope: TenantScope, actor: CommandEnvelope<unknown>['actor']): Promise<GatewayCredentials> {
    const cacheKey = `${scope.organisationId}\0${scope.projectId ?? ''}\0${actor.keyId}`;
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expiresAtMs - Date.now() > REFRESH_BEFORE_MS) return cached.credentials;
    const pending = this.minting.get(cacheKey);
    if (pending) return pending;
    const mint = this.bus
      .request('gateway.v1.delegations.mint', { scope, actor, input: {} })
      .then((minted) => {
        const credentials = { url: minted.gatewayUrl, token: minted.token };
        if (this.cache.size > 1000) this.cache.clear();
        this.cache.set(cacheKey, { credentials, expiresAtMs: Date.parse(minted.expiresAt) });
        return credentials;
      })
      .finally(() => this.minting.delete(cacheKey));
    this.minting.set(cacheKey, mint);
    return mint;
  }
}

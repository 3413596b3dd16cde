import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { TenantScope } from '#libs/contracts';
import { DataSource } from 'typeorm';

/**
 * Delegated tokens: how the evaluator calls /v1 on behalf of an admin without the admin's key.
 *
 * Design (issue 18). The admin's raw key never leaves the gateway. When the evaluator needs to call
 * /v1 for a run or playground prompt, it asks a gateway over the bus (`gateway.v1.delegations.mint`,
 * a subject only the evaluator's NATS user may publish) for a token acting as the admin key that
 * started the work (the command's actor), in that key's scope. The gateway mints one only while
 * that key is an active admin key of exactly that scope, and the token:
 * - is short-lived (TOKEN_TTL_MS; the evaluator asks again before it runs out, e.g. for a long run
 *   or after a restart), so a leaked token is worth little and nothing is stored;
 * - is a client credential: /v1 only, never /admin (its principal's role is `client`);
 * - dies with the admin key: each use checks that the key is still active (read model, in memory),
 *   so revoking the admin's key stops the evaluator's calls for it within the change-event delay;
 * - is metered and traced as the admin key's call, in its scope, like any other.
 * Tokens are HMAC-SHA256-signed claims; the signing key is random, created once in the gateway's
 * schema and shared by every replica (any replica verifies a token another minted). Checking one
 * is an HMAC over ~100 bytes, no bus or database round trip, so the hot path rule holds.
 */
export const DELEGATED_TOKEN_PREFIX = 'sk-gw-dlg.';
export const DELEGATED_TOKEN_TTL_MS = 10 * 60_000;

export interface DelegationClaims extends TenantScope {
  /** The admin key the token acts for. */
  keyId: string;
  expiresAtMs: number;
}

interface WireClaims {
  o: string;
  p: string | null;
  k: string;
  e: number;
}

@Injectable()
export class DelegatedTokens implements OnModuleInit {
  private secret?: Buffer;

  constructor(private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    await this.dataSource.query(`INSERT INTO delegation_keys (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, [randomBytes(32).toString('base64')]);
    const rows = (await this.dataSource.query(`SELECT secret FROM delegation_keys WHERE id = 1`)) as { secret: string }[];
    this.useSecret(Buffer.from(rows[0].secret, 'base64'));
  }

  /** Tests use a fixed key. */
  useSecret(secret: Buffer): void {
    this.secret = secret;
  }

  mint(claims: DelegationClaims): string {
    const wire: WireClaims = { o: claims.organisationId, p: claims.projectId, k: claims.keyId, e: claims.expiresAtMs };
    const payload = Buffer.from(JSON.stringify(wire)).toString('base64url');
    return `${DELEGATED_TOKEN_PREFIX}${payload}.${this.sign(payload).toString('base64url')}`;
  }

  /** The claims of a token this gateway signed that has not expired at `nowMs`; undefined otherwise. */
  verify(token: string, nowMs: number): DelegationClaims | undefined {
    if (!this.secret || !token.startsWith(DELEGATED_TOKEN_PREFIX)) return undefined;
    const dot = token.lastIndexOf('.');
    if (dot <= DELEGATED_TOKEN_PREFIX.length) return undefined;
    const payload = token.slice(DELEGATED_TOKEN_PREFIX.length, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.sign(payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let wire: Partial<WireClaims>;
    try {
      wire = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<WireClaims>;
    } catch {
      return undefined;
    }
    if (typeof wire.o !== 'string' || typeof wire.k !== 'string' || typeof wire.e !== 'number' || (wire.p !== null && typeof wire.p !== 'string')) return undefined;
    if (wire.e <= nowMs) return undefined;
    return { organisationId: wire.o, projectId: wire.p ?? null, keyId: wire.k, expiresAtMs: wire.e };
  }

  private sign(payload: string): Buffer {
    if (!this.secret) throw new Error('delegated tokens are not ready: the signing key is not loaded');
    return createHmac('sha256', this.secret).update(payload).digest();
  }
}

import type { BusClient } from '#libs/bus';
import type { DataSource } from 'typeorm';
import type { ApiKeyEntity } from '../keys/api-key.entity.js';
import type { ApiKeysRepository } from '../keys/api-keys.repository.js';
import { ReadModelService } from '../read-model/read-model.service.js';
import { DELEGATED_TOKEN_PREFIX, DelegatedTokens } from './delegated-tokens.js';

function tokens(secret = 'a'.repeat(32)): DelegatedTokens {
  const t = new DelegatedTokens({} as DataSource);
  t.useSecret(Buffer.from(secret));
  return t;
}

const claims = { organisationId: 'org_1', projectId: 'proj-a', keyId: 'key_admin', expiresAtMs: 2_000_000 };

describe('delegated tokens', () => {
  it('verifies what it minted until it expires', () => {
    const t = tokens();
    const token = t.mint(claims);
    expect(token.startsWith(DELEGATED_TOKEN_PREFIX)).toBe(true);
    expect(t.verify(token, 1_999_999)).toEqual(claims);
    expect(t.verify(token, 2_000_000)).toBeUndefined();
  });

  it('refuses a token signed with another key or with changed claims', () => {
    const token = tokens().mint(claims);
    expect(tokens('b'.repeat(32)).verify(token, 0)).toBeUndefined();
    const [payload, signature] = token.slice(DELEGATED_TOKEN_PREFIX.length).split('.');
    const forged = Buffer.from(JSON.stringify({ o: 'org_1', p: null, k: 'key_admin', e: 2_000_000 })).toString('base64url');
    expect(tokens().verify(`${DELEGATED_TOKEN_PREFIX}${forged}.${signature}`, 0)).toBeUndefined();
    expect(tokens().verify(`${DELEGATED_TOKEN_PREFIX}${payload}.`, 0)).toBeUndefined();
    expect(tokens().verify('sk-gw-dlg.garbage', 0)).toBeUndefined();
  });
});

describe('the read model with delegated tokens', () => {
  const admin = { id: 'key_admin', name: 'ops', role: 'admin', organisationId: 'org_1', projectId: 'proj-a', keyHash: 'h1', revokedAt: null } as ApiKeyEntity;
  const client = { ...admin, id: 'key_client', role: 'client', keyHash: 'h2' } as ApiKeyEntity;

  async function readModelWith(keys: ApiKeyEntity[], t: DelegatedTokens): Promise<{ readModel: ReadModelService; keys: ApiKeyEntity[] }> {
    const repo = { allActive: async () => keys.filter((k) => !k.revokedAt), findById: async (id: string) => keys.find((k) => k.id === id) ?? null } as unknown as ApiKeysRepository;
    const readModel = new ReadModelService({} as BusClient, repo, undefined, t);
    await readModel.refresh('keys');
    return { readModel, keys };
  }

  it('acts as the admin key in its scope, as a /v1-only client, and stops when the key is revoked', async () => {
    const t = tokens();
    const keys = [{ ...admin }, client];
    const { readModel } = await readModelWith(keys, t);
    const token = t.mint({ ...claims, expiresAtMs: Date.now() + 60_000 });
    expect(readModel.principalForKey(token)).toMatchObject({ keyId: 'key_admin', name: 'evaluator for ops', role: 'client', organisationId: 'org_1', projectId: 'proj-a' });
    keys[0]!.revokedAt = new Date();
    await readModel.refreshKey('key_admin');
    expect(readModel.principalForKey(token)).toBeUndefined();
  });

  it('refuses a token for a client key, another scope, or one that has expired', async () => {
    const t = tokens();
    const { readModel } = await readModelWith([admin, client], t);
    const soon = Date.now() + 60_000;
    expect(readModel.principalForKey(t.mint({ ...claims, keyId: 'key_client', expiresAtMs: soon }))).toBeUndefined();
    expect(readModel.principalForKey(t.mint({ ...claims, projectId: 'proj-b', expiresAtMs: soon }))).toBeUndefined();
    expect(readModel.principalForKey(t.mint({ ...claims, expiresAtMs: Date.now() - 1 }))).toBeUndefined();
  });
});

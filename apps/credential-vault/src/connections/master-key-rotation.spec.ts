import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { CommandEnvelope, RotateMasterKeyDto } from '#libs/contracts';
import type { RunningService } from '#libs/runtime';
import { createServiceHarness, envelope, type ServiceHarness } from '../../../../test/support/service-harness.js';
import { startCredentialVault } from '../credential-vault.module.js';
import { MasterKeyRing } from '../crypto/master-key-ring.js';
import { MasterKeySource } from '../crypto/master-key-source.js';

const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('base64');
const ADMIN = { keyId: 'key_admin_rot', name: 'rita' };

/** Keys as an operator edits VAULT_MASTER_KEY_FILE: what load() answers changes while the vault runs. */
class EditableKeySource extends MasterKeySource {
  constructor(public spec: string) {
    super();
  }
  async load(): Promise<MasterKeyRing> {
    return MasterKeyRing.parse(this.spec);
  }
}

async function sql<R extends pg.QueryResultRow>(databaseUrl: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

function rotate(input: RotateMasterKeyDto = {}, scope = { organisationId: 'default', projectId: null as string | null }): CommandEnvelope<RotateMasterKeyDto> {
  return { scope, actor: ADMIN, input };
}

describe('master key rotation on demand (POST /admin/vault/rotate-master-key)', () => {
  let h: ServiceHarness;
  const running: RunningService[] = [];

  beforeAll(async () => {
    h = await createServiceHarness('credential_vault_rotate_now', { VAULT_MASTER_KEY: `a:${KEY_A}` });
  });
  afterAll(async () => {
    for (const s of running.reverse()) await s.close();
    await h.close();
  });

  it('re-wraps every data key under the key put first in the key file, in batches, while reads go on without one failing; a second vault replica follows', async () => {
    const source = new EditableKeySource(`a:${KEY_A}`);
    const replicaSource = new EditableKeySource(`a:${KEY_A}`);
    running.push(await startCredentialVault(h.runtime, { keySource: source }));
    const count = 230; // three batches of 100
    // A second replica, still on the old keys: it reads them again when it meets a row under a key it does not hold.
    running.push(await startCredentialVault(h.runtime, { keySource: replicaSource }));
    const ids: string[] = [];
    for (let i = 0; i < count; i += 10) {
      const created = await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          h.bus.request('vault.v1.connections.create', envelope({ name: `rot-${i + j}`, adapter: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: `sk-rot-${String(i + j).padStart(8, '0')}` })),
        ),
      );
      ids.push(...created.map((c) => c.id));
    }

    // Calls go on: the gateways' loads and reveals, all the time the rotation runs.
    let stop = false;
    const failures: unknown[] = [];
    let reads = 0;
    const load = (async () => {
      while (!stop) {
        try {
          const all = await h.bus.request('vault.v1.connections.resolve-all', {});
          if (all.length !== count) failures.push(`resolve-all gave ${all.length} connections`);
          const revealed = await h.bus.request('vault.v1.connections.reveal', envelope({ id: ids[reads % count]! }));
          if (revealed.apiKey !== `sk-rot-${String(reads % count).padStart(8, '0')}`) failures.push(`reveal gave ${revealed.apiKey}`);
          reads++;
        } catch (err) {
          failures.push(err);
        }
      }
    })();

    // The operator puts the new key first in the (shared) key file, then calls the command on one replica.
    source.spec = `b:${KEY_B},a:${KEY_A}`;
    replicaSource.spec = `b:${KEY_B},a:${KEY_A}`;
    const outcome = await h.bus.request('vault.v1.master-key.rotate', rotate());
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await load;

    expect(outcome).toEqual({ activeMasterKeyId: 'b', previousActiveMasterKeyId: 'a', rewrapped: count, remainingByMasterKeyId: {} });
    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    expect(await sql(h.databaseUrl, `SELECT master_key_id, count(*)::int AS n FROM vault.connections GROUP BY master_key_id`)).toEqual([{ master_key_id: 'b', n: count }]);
    expect(await sql(h.databaseUrl, `SELECT actor_key_id, target_id, details FROM vault.audit_log WHERE action = 'master_key.rotated'`)).toEqual([
      { actor_key_id: ADMIN.keyId, target_id: 'b', details: { count, fromMasterKeyIds: ['a'] } },
    ]);

    // Run again: nothing left to move (resumable and idempotent).
    await expect(h.bus.request('vault.v1.master-key.rotate', rotate())).resolves.toMatchObject({ activeMasterKeyId: 'b', previousActiveMasterKeyId: 'b', rewrapped: 0 });
  }, 60_000);

  it('refuses generateKey when the keys come from the operator, and a project-scoped admin', async () => {
    await expect(h.bus.request('vault.v1.master-key.rotate', rotate({ generateKey: true }))).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(h.bus.request('vault.v1.master-key.rotate', rotate({}, { organisationId: 'default', projectId: 'proj_1' }))).rejects.toMatchObject({ code: 'forbidden' });
  });
});

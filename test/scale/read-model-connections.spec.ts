import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ConnectionSecrets } from '../../apps/credential-vault/src/connections/connection-secrets.js';
import { startCredentialVault } from '../../apps/credential-vault/src/credential-vault.module.js';
import { EnvelopeCipher } from '../../apps/credential-vault/src/crypto/envelope-cipher.js';
import { MasterKeyRing } from '../../apps/credential-vault/src/crypto/master-key-ring.js';
import type { ApiKeysRepository } from '../../apps/gateway/src/keys/api-keys.repository.js';
import { ReadModelService } from '../../apps/gateway/src/read-model/read-model.service.js';
import { BusClient } from '#libs/bus';
import { createServiceHarness, type ServiceHarness } from '../support/service-harness.js';

const KEY = randomBytes(32).toString('base64');
const COUNT = 10_000;
/** NATS's default max_payload. */
const NATS_MAX_PAYLOAD = 1024 * 1024;

/**
 * Issue 16.8: a new gateway replica loads any number of connections. 10,000 sealed connections
 * (each with a 40-character key and a header) are far more than one 1 MB message holds; the read
 * model loads them page by page, every page well under the limit. With TEST_NATS_URL the pages
 * travel on a real NATS server, which would refuse an oversized one.
 */
describe('the read model loads 10,000 connections', () => {
  let h: ServiceHarness;

  beforeAll(async () => {
    h = await createServiceHarness('read_model_scale', { VAULT_MASTER_KEY: `a:${KEY}` });
    await h.start(startCredentialVault);
    const secrets = new ConnectionSecrets(new EnvelopeCipher(MasterKeyRing.parse(`a:${KEY}`)));
    const client = new pg.Client({ connectionString: h.databaseUrl });
    await client.connect();
    try {
      for (let start = 0; start < COUNT; start += 500) {
        const values: unknown[] = [];
        const tuples: string[] = [];
        for (let i = start; i < Math.min(start + 500, COUNT); i++) {
          const id = `conn_scale${String(i).padStart(6, '0')}`;
          const organisationId = `org_${i % 7}`;
          const sealed = secrets.seal({ organisationId, id }, { secrets: { apiKey: `sk-scale-${String(i).padStart(8, '0')}-${'x'.repeat(24)}` }, headers: { 'X-Team': `team-${i}` } });
          const n = values.length;
          tuples.push(`($${n + 1}, $${n + 2}, NULL, $${n + 3}, $${n + 3}, 'openai-compatible', 'https://llm.example.test/v1', $${n + 4}, $${n + 5}, 'a', NULL, ARRAY['X-Team'], ARRAY[NULL]::text[])`);
          values.push(id, organisationId, `scale-${i}`, sealed.ciphertext, sealed.wrappedDataKey);
        }
        await client.query(
          `INSERT INTO vault.connections (id, organisation_id, project_id, name, slug, adapter, base_url, secret_ciphertext, wrapped_data_key, master_key_id, api_key_last4, header_names, header_value_last4) VALUES ${tuples.join(', ')}`,
          values,
        );
      }
    } finally {
      await client.end();
    }
  }, 120_000);
  afterAll(() => h.close());

  it('loads every one of them into a new replica, page by page, each page far below 1 MB', async () => {
    const pageSizes: number[] = [];
    const measuring = {
      request: async (subject: string, payload: unknown) => {
        const answer = await h.bus.request(subject as 'vault.v1.connections.resolve-page', payload as never, 30_000);
        if (subject === 'vault.v1.connections.resolve-page') pageSizes.push(Buffer.byteLength(JSON.stringify(answer)));
        return answer;
      },
    } as unknown as BusClient;
    const readModel = new ReadModelService(measuring, {} as ApiKeysRepository);
    await readModel.refresh('connections');

    expect([...readModel.allConnections()]).toHaveLength(COUNT);
    expect(readModel.connection('conn_scale009999')).toMatchObject({ organisationId: 'org_3', apiKey: `sk-scale-00009999-${'x'.repeat(24)}`, headers: { 'X-Team': 'team-9999' } });
    expect(pageSizes.length).toBeGreaterThanOrEqual(COUNT / 200);
    expect(Math.max(...pageSizes)).toBeLessThan(NATS_MAX_PAYLOAD / 4);
    // One message for all of them would not fit.
    expect(pageSizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(NATS_MAX_PAYLOAD);
  }, 120_000);
});

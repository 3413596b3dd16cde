import pg from 'pg';
import { createServiceHarness, type ServiceHarness } from '../../../../test/support/service-harness.js';
import { startEvaluator } from '../evaluator.module.js';

describe('evaluator on the bus', () => {
  let h: ServiceHarness;

  beforeAll(async () => {
    h = await createServiceHarness('evaluator');
    await h.start(startEvaluator);
  });
  afterAll(() => h.close());

  it('answers its ping once its migrations have run', async () => {
    await expect(h.bus.request('evaluator.v1.ping', {})).resolves.toEqual({ service: 'evaluator', ok: true });
  });

  it('refuses a playground run without an organisation as validation_failed and stores no run', async () => {
    const countRuns = async () => {
      const client = new pg.Client({ connectionString: h.databaseUrl });
      await client.connect();
      try {
        return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM evaluator.playground_runs')).rows[0].n;
      } finally {
        await client.end();
      }
    };
    const input = { run: { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, gateway: { url: 'http://127.0.0.1:9', key: 'sk-gw-x' } };
    for (const scope of [undefined, { projectId: null }, { organisationId: '', projectId: null }]) {
      await expect(h.bus.request('evaluator.v1.playground.run', { scope, actor: { keyId: 'k', name: 'n' }, input } as never)).rejects.toMatchObject({
        code: 'validation_failed',
        details: expect.arrayContaining([expect.objectContaining({ field: 'scope.organisationId' })]),
      });
    }
    expect(await countRuns()).toBe(0);
  });

  it('fails a request nobody answers with unavailable, not a hang', async () => {
    await expect(h.bus.request('vault.v1.ping', {}, 300)).rejects.toMatchObject({ code: 'unavailable' });
  });
});

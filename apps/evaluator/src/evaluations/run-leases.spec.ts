import { openServiceDatabase } from '#libs/db';
import type { DataSource } from 'typeorm';
import { createServiceHarness, type ServiceHarness } from '../../../../test/support/service-harness.js';
import { Initial1732350000000 } from '../migrations/1732350000000-initial.js';
import { PlaygroundRuns1732380000000 } from '../migrations/1732380000000-playground-runs.js';
import { Evaluations1796700000000 } from '../migrations/1796700000000-evaluations.js';
import { PlaygroundSessions1796700000001 } from '../migrations/1796700000001-playground-sessions.js';
import { RunLeases1796700000002 } from '../migrations/1796700000002-run-leases.js';
import { EvaluationsRepository } from './evaluations.repository.js';

/** Run leases on real Postgres: one evaluator replica runs a run; a lapsed or released lease is taken over. */
describe('evaluation run leases', () => {
  let h: ServiceHarness;
  let db: DataSource;
  let repo: EvaluationsRepository;

  beforeAll(async () => {
    // The repository alone on the evaluator's migrated schema: no runner of its own takes the runs.
    h = await createServiceHarness('evaluator_leases');
    db = await openServiceDatabase({
      url: h.databaseUrl,
      schema: 'evaluator',
      entities: [],
      migrations: [Initial1732350000000, PlaygroundRuns1732380000000, Evaluations1796700000000, PlaygroundSessions1796700000001, RunLeases1796700000002],
      poolSize: 2,
    });
    repo = new EvaluationsRepository(db);
    await db.query(`INSERT INTO datasets (id, organisation_id, name) VALUES ('ds_lease', 'default', 'leases')`);
  }, 60_000);
  afterAll(async () => {
    await db?.destroy();
    await h?.close();
  });

  async function runningRun(id: string): Promise<void> {
    await repo.insertRun({
      id,
      organisation_id: 'default',
      project_id: null,
      actor_key_id: 'key_a',
      actor_name: 'a',
      name: null,
      dataset_id: 'ds_lease',
      dataset_version: 0,
      task: { model: 'm', messages: [{ role: 'user', content: 'x' }] },
      scorers: [{ type: 'exact_match' }],
      concurrency: 1,
      status: 'running',
      rows_total: 0,
    });
  }

  it('gives a run to one replica at a time, and to another once the lease is released or lapses', async () => {
    await runningRun('evr_lease_1');
    expect(await repo.claim('replica-a', 60_000, 'evr_lease_1')).toEqual(['evr_lease_1']);
    expect(await repo.claim('replica-b', 60_000)).not.toContain('evr_lease_1');
    expect(await repo.renew('replica-a', 60_000, ['evr_lease_1'])).toEqual(['evr_lease_1']);
    await repo.release('replica-a');
    expect(await repo.claim('replica-b', 1)).toContain('evr_lease_1');
    await new Promise((r) => setTimeout(r, 20));
    // replica-b's lease of 1 ms lapsed: as if it had died.
    expect(await repo.claim('replica-c', 60_000)).toContain('evr_lease_1');
    expect(await repo.renew('replica-b', 60_000, ['evr_lease_1'])).toEqual([]);
  });

  it('drops a cancelled run from its holder\'s renewals', async () => {
    await runningRun('evr_lease_2');
    expect(await repo.claim('replica-a', 60_000, 'evr_lease_2')).toEqual(['evr_lease_2']);
    expect(await repo.finish('evr_lease_2', 'cancelled')).toBe(true);
    expect(await repo.renew('replica-a', 60_000, ['evr_lease_2'])).toEqual([]);
    expect(await repo.claim('replica-b', 60_000)).not.toContain('evr_lease_2');
  });
});

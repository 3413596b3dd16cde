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

  it('fails a request nobody answers with unavailable, not a hang', async () => {
    await expect(h.bus.request('vault.v1.ping', {}, 300)).rejects.toMatchObject({ code: 'unavailable' });
  });
});

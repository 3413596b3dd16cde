import { definitionView } from '../../../../test/support/model-definition-view.js';
import type { DefinitionsReadModel } from '../definitions/definitions-read-model.js';
import { PriceCatalogue } from '../pricing/price-catalogue.js';
import type { PricingOutcome } from '../pricing/usage-pricer.js';
import type { KeySpendReporter } from '../key-spend/key-spend-reporter.js';
import { UnpricedRecordsRepricer } from './unpriced-records.repricer.js';
import type { UnpricedRecord, UsageRecordsRepository } from './usage-records.repository.js';

const JAN = '2026-01-01T00:00:00.000Z';

const record = (id: string, model: string, projectId: string | null = null): UnpricedRecord => ({
  id,
  organisationId: 'org_a',
  projectId,
  keyId: `key_${id}`,
  model,
  startedAt: new Date('2026-02-01T00:00:00Z'),
  usage: { input: 1000n, output: 100n, cacheRead: 0n, cacheWrite: 0n, reasoning: 0n },
  definitionId: null,
  priceEffectiveFrom: null,
  unpricedReason: 'no_matching_definition',
});

describe('UnpricedRecordsRepricer.repriceScope', () => {
  const catalogue = PriceCatalogue.build([
    definitionView({ id: 'def_new', organisationId: 'org_a', projectId: null, name: 'new', matchPattern: '^new-model$', tokenizer: 'none', priceVersions: [{ effectiveFrom: JAN, prices: { input: '0.000002', output: '0.00001' } }], createdAt: JAN, updatedAt: JAN }),
  ]);
  const definitions = { isLoaded: true, catalogue, onChange: () => undefined } as unknown as DefinitionsReadModel;

  it('prices the scope’s records a definition now matches, answers each change, and leaves the others as they were', async () => {
    const scopes: unknown[] = [];
    const written: { id: string; outcome: PricingOutcome }[] = [];
    const records = {
      findRepriceable: async (afterId: string, _limit: number, scope: unknown) => {
        scopes.push(scope);
        return afterId === '' ? [record('u1', 'new-model'), record('u2', 'still-unknown'), record('u3', 'new-model')] : [];
      },
      // u3 was priced meanwhile by another run: not changed by this one.
      updateUnpricedIds: async (updates: { id: string; outcome: PricingOutcome }[]) => {
        written.push(...updates);
        return updates.map((u) => u.id).filter((id) => id !== 'u3');
      },
    } as unknown as UsageRecordsRepository;
    const spent: { keyId: string | null; startedAt: Date; cost: { toString(): string } }[] = [];
    const keySpend = { notePriced: (r: typeof spent) => spent.push(...r) } as unknown as KeySpendReporter;
    const repricer = new UnpricedRecordsRepricer(definitions, records, keySpend);
    const result = await repricer.repriceScope({ organisationId: 'org_a', projectId: null });
    expect(scopes[0]).toEqual({ organisationId: 'org_a', projectId: null });
    expect(written.map((u) => u.id)).toEqual(['u1', 'u3']); // u2's outcome is what it was: not written
    // Only the record this run priced counts against its key's budget (u3 was priced, and spent, by the other run).
    expect(spent.map((r) => [r.keyId, r.cost.toString()])).toEqual([['key_u1', '0.003']]);
    // 1000 x 0.000002 + 100 x 0.00001 = 0.002 + 0.001
    expect(result).toEqual({
      examined: 3,
      priced: 1,
      changed: [{ id: 'u1', model: 'new-model', previousReason: 'no_matching_definition', priced: true, cost: '0.003', unpricedReason: null, definitionId: 'def_new', priceEffectiveFrom: JAN }],
    });
  });
});

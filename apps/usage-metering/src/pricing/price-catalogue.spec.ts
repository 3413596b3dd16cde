import type { ModelDefinitionView } from '#libs/contracts';
import { definitionView, type DefinitionFixture, type VersionFixture } from '../../../../test/support/model-definition-view.js';
import { formatDecimal } from '#libs/money';
import { MatchPatternCache } from '#libs/match-pattern';
import { PriceCatalogue, type PriceLookup, type PriceResolution } from './price-catalogue.js';

const JAN = '2025-01-01T00:00:00.000Z';
const JUNE = '2025-06-01T00:00:00.000Z';

function definition(d: DefinitionFixture): ModelDefinitionView {
  return definitionView({
    organisationId: 'org_a',
    projectId: null,
    name: d.id,
    matchPattern: '(?i)^gpt-4o$',
    tokenizer: 'o200k_base',
    priceVersions: [{ effectiveFrom: JAN, prices: { input: '0.0000025', output: '0.00001' } }],
    createdAt: JAN,
    updatedAt: JAN,
    ...d,
  });
}

function lookup(l: Partial<PriceLookup> = {}): PriceLookup {
  return { organisationId: 'org_a', projectId: null, model: 'gpt-4o', startedAt: new Date('2025-07-01T12:00:00Z'), ...l };
}

/** What was chosen, in a form easy to compare: definition id, version date and the prices. */
function chosen(r: PriceResolution): unknown {
  if (!r.found) return { reason: r.reason, definitionId: r.definitionId };
  return {
    definitionId: r.definitionId,
    effectiveFrom: r.effectiveFrom.toISOString(),
    prices: Object.fromEntries(Object.entries(r.tiers.find((t) => t.isDefault)!.prices).map(([k, v]) => [k, formatDecimal(v!)])),
  };
}

describe('PriceCatalogue', () => {
  it('matches the span model against the pattern with RE2 syntax, case-insensitive with (?i), anywhere in the name', () => {
    const catalogue = PriceCatalogue.build([definition({ id: 'def_1', matchPattern: '(?i)^(openai/)?gpt-4o(-\\d{4}-\\d{2}-\\d{2})?$' })]);
    expect(chosen(catalogue.resolve(lookup({ model: 'OpenAI/GPT-4o-2024-08-06' })))).toMatchObject({ definitionId: 'def_1' });
    expect(chosen(catalogue.resolve(lookup({ model: 'gpt-4o-mini' })))).toEqual({ reason: 'no_matching_definition', definitionId: null });
    const unanchored = PriceCatalogue.build([definition({ id: 'def_2', matchPattern: 'claude' })]);
    expect(chosen(unanchored.resolve(lookup({ model: 'anthropic.claude-3-haiku' })))).toMatchObject({ definitionId: 'def_2' });
  });

  it('uses only the span organisation’s definitions', () => {
    const catalogue = PriceCatalogue.build([definition({ id: 'def_b', organisationId: 'org_b' })]);
    expect(chosen(catalogue.resolve(lookup()))).toEqual({ reason: 'no_matching_definition', definitionId: null });
    expect(chosen(catalogue.resolve(lookup({ organisationId: 'org_b' })))).toMatchObject({ definitionId: 'def_b' });
  });

  it('prefers the span project’s definition to the organisation-wide one, even when the latter is newer', () => {
    const catalogue = PriceCatalogue.build([
      definition({ id: 'def_org', updatedAt: '2025-05-01T00:00:00.000Z' }),
      definition({ id: 'def_proj', projectId: 'proj_x', updatedAt: '2025-02-01T00:00:00.000Z' }),
    ]);
    expect(chosen(catalogue.resolve(lookup({ projectId: 'proj_x' })))).toMatchObject({ definitionId: 'def_proj' });
    expect(chosen(catalogue.resolve(lookup({ projectId: null })))).toMatchObject({ definitionId: 'def_org' });
    // Another project's definition is never used, not even as a fallback.
    expect(chosen(catalogue.resolve(lookup({ projectId: 'proj_y' })))).toMatchObject({ definitionId: 'def_org' });
  });

  it('never uses another project’s definition', () => {
    const catalogue = PriceCatalogue.build([definition({ id: 'def_proj', projectId: 'proj_x' })]);
    expect(chosen(catalogue.resolve(lookup({ projectId: 'proj_y' })))).toEqual({ reason: 'no_matching_definition', definitionId: null });
    expect(chosen(catalogue.resolve(lookup({ projectId: null })))).toEqual({ reason: 'no_matching_definition', definitionId: null });
  });

  it('takes the most recently updated of several matching definitions at the same level', () => {
    const catalogue = PriceCatalogue.build([
      definition({ id: 'def_old', matchPattern: '^gpt', updatedAt: '2025-03-01T00:00:00.000Z' }),
      definition({ id: 'def_new', matchPattern: '^gpt-4', updatedAt: '2025-04-01T00:00:00.000Z' }),
      definition({ id: 'def_mid', matchPattern: 'gpt-4o', updatedAt: '2025-03-15T00:00:00.000Z' }),
    ]);
    expect(chosen(catalogue.resolve(lookup()))).toMatchObject({ definitionId: 'def_new' });
  });

  it('uses the price version with the latest effective date at or before the span start', () => {
    const catalogue = PriceCatalogue.build([
      definition({
        id: 'def_1',
        // deliberately not oldest first: the rule must not depend on the order
        priceVersions: [
          { effectiveFrom: JUNE, prices: { input: '0.000002', output: '0.000004' } },
          { effectiveFrom: JAN, prices: { input: '0.000001', output: '0.000002' } },
        ],
      }),
    ]);
    expect(chosen(catalogue.resolve(lookup({ startedAt: new Date('2025-05-31T23:59:59.999Z') })))).toEqual({
      definitionId: 'def_1',
      effectiveFrom: JAN,
      prices: { input: '0.000001', output: '0.000002' },
    });
    expect(chosen(catalogue.resolve(lookup({ startedAt: new Date(JUNE) })))).toEqual({
      definitionId: 'def_1',
      effectiveFrom: JUNE,
      prices: { input: '0.000002', output: '0.000004' },
    });
  });

  it('says no price is in force for a span older than every price version', () => {
    const catalogue = PriceCatalogue.build([definition({ id: 'def_1' })]);
    expect(chosen(catalogue.resolve(lookup({ startedAt: new Date('2024-12-31T23:59:59.999Z') })))).toEqual({ reason: 'no_price_in_force', definitionId: 'def_1' });
    const noVersions = PriceCatalogue.build([definition({ id: 'def_2', priceVersions: [] })]);
    expect(chosen(noVersions.resolve(lookup()))).toEqual({ reason: 'no_price_in_force', definitionId: 'def_2' });
  });

  it('skips a definition whose pattern RE2 refuses, and says which', () => {
    const refused: string[] = [];
    const catalogue = PriceCatalogue.build(
      [definition({ id: 'def_bad', matchPattern: '(a)\\1', updatedAt: JUNE }), definition({ id: 'def_ok' })],
      new MatchPatternCache(),
      (d) => refused.push(d.id),
    );
    expect(refused).toEqual(['def_bad']);
    expect(chosen(catalogue.resolve(lookup()))).toMatchObject({ definitionId: 'def_ok' });
  });

  it('ignores a price that is not a decimal string rather than guessing', () => {
    const versions: VersionFixture[] = [{ effectiveFrom: JAN, prices: { input: '2.5e-6', output: '0.00001' } }];
    const catalogue = PriceCatalogue.build([definition({ id: 'def_1', priceVersions: versions })], new MatchPatternCache(), () => undefined);
    expect(chosen(catalogue.resolve(lookup()))).toMatchObject({ prices: { output: '0.00001' } });
  });

  it('compiles each definition’s pattern once across reloads, and again only when the pattern changes', () => {
    const patterns = new MatchPatternCache();
    PriceCatalogue.build([definition({ id: 'def_1' }), definition({ id: 'def_2', matchPattern: 'x' })], patterns);
    const first = patterns.compileCount;
    PriceCatalogue.build([definition({ id: 'def_1' }), definition({ id: 'def_2', matchPattern: 'x' })], patterns);
    expect(first).toBe(2);
    expect(patterns.compileCount).toBe(first);
    PriceCatalogue.build([definition({ id: 'def_1', matchPattern: 'y' })], patterns);
    expect(patterns.compileCount).toBe(first + 1);
    expect(patterns.size).toBe(1);
  });

  describe('which definition wins (README, "Which definition prices a call")', () => {
    const system = (d: DefinitionFixture) => definition({ organisationId: '_system', source: 'system', ...d });

    it('prices with a User definition over a System one for the same model, however specific or recent the System one is', () => {
      const catalogue = PriceCatalogue.build([
        system({ id: 'sys_4o', matchPattern: '(?i)^(openai/)?(gpt-4o)$', priority: 100, updatedAt: JUNE }),
        definition({ id: 'user_any_gpt', matchPattern: 'gpt', updatedAt: JAN }),
      ]);
      expect(chosen(catalogue.resolve(lookup()))).toMatchObject({ definitionId: 'user_any_gpt' });
    });

    it('uses a System definition for every organisation that has no matching User definition of its own', () => {
      const catalogue = PriceCatalogue.build([system({ id: 'sys_4o' }), definition({ id: 'user_b', organisationId: 'org_b' })]);
      expect(chosen(catalogue.resolve(lookup({ organisationId: 'org_a' })))).toMatchObject({ definitionId: 'sys_4o' });
      expect(chosen(catalogue.resolve(lookup({ organisationId: 'org_c', projectId: 'p1' })))).toMatchObject({ definitionId: 'sys_4o' });
      expect(chosen(catalogue.resolve(lookup({ organisationId: 'org_b' })))).toMatchObject({ definitionId: 'user_b' });
    });

    it('does not fall back to the System definition when the User one has no version in force yet', () => {
      const catalogue = PriceCatalogue.build([
        system({ id: 'sys_4o' }),
        definition({ id: 'user_future', priceVersions: [{ effectiveFrom: '2030-01-01T00:00:00.000Z', prices: { input: '1', output: '1' } }] }),
      ]);
      expect(chosen(catalogue.resolve(lookup()))).toEqual({ reason: 'no_price_in_force', definitionId: 'user_future' });
    });

    it('takes the higher priority at the same level, before the most recently updated', () => {
      const catalogue = PriceCatalogue.build([
        definition({ id: 'def_recent', matchPattern: 'gpt', updatedAt: JUNE }),
        definition({ id: 'def_priority', matchPattern: 'gpt-4o', priority: 5, updatedAt: JAN }),
        definition({ id: 'def_negative', matchPattern: '^gpt-4o$', priority: -1, updatedAt: '2025-12-01T00:00:00.000Z' }),
      ]);
      expect(chosen(catalogue.resolve(lookup()))).toMatchObject({ definitionId: 'def_priority' });
    });

    it('breaks a tie of priority and update time by the greater id, whatever the load order', () => {
      const a = definition({ id: 'def_a', matchPattern: 'gpt' });
      const b = definition({ id: 'def_b', matchPattern: 'gpt' });
      expect(chosen(PriceCatalogue.build([a, b]).resolve(lookup()))).toMatchObject({ definitionId: 'def_b' });
      expect(chosen(PriceCatalogue.build([b, a]).resolve(lookup()))).toMatchObject({ definitionId: 'def_b' });
    });

    it('keeps a project definition first even against a higher-priority organisation-wide one', () => {
      const catalogue = PriceCatalogue.build([definition({ id: 'def_org', priority: 100 }), definition({ id: 'def_proj', projectId: 'proj_x' })]);
      expect(chosen(catalogue.resolve(lookup({ projectId: 'proj_x' })))).toMatchObject({ definitionId: 'def_proj' });
    });
  });

  it('matches a pattern that makes backtracking engines hang in linear time', () => {
    // (a+)+$ against "aaaa…ab" takes exponential time in a backtracking engine (2^40 steps here).
    const catalogue = PriceCatalogue.build([definition({ id: 'def_evil', matchPattern: '^(a+)+$' })]);
    const started = process.hrtime.bigint();
    const resolution = catalogue.resolve(lookup({ model: `${'a'.repeat(40_000)}b` }));
    const elapsedMs = Number((process.hrtime.bigint() - started) / 1_000_000n);
    expect(resolution.found).toBe(false);
    // Generous bound: linear matching of 40,000 characters takes milliseconds; backtracking would never end.
    expect(elapsedMs).toBeLessThan(5_000);
  });
});

import { GatewayAttr, GenAiAttr, type LastUsedBatch, type SpanRecord } from '#libs/contracts';
import type { NewUsageRecord } from '../records/new-usage-record.js';
import { LastUsedReporter, type RegistryLastUsed } from './last-used-reporter.js';

/** Counts the writes: each request is one registry transaction. Answers when the test releases it. */
class CountingRegistry {
  readonly requests: LastUsedBatch[] = [];
  private releases: Array<(fail?: Error) => void> = [];

  record(batch: LastUsedBatch): Promise<unknown> {
    this.requests.push(batch);
    return new Promise((resolve, reject) => this.releases.push((fail) => (fail ? reject(fail) : resolve({}))));
  }

  answer(fail?: Error): void {
    this.releases.shift()?.(fail);
  }
}

function record(definitionId: string | null, at: string, priced = true): NewUsageRecord {
  return { definitionId, startedAt: new Date(at), priced } as NewUsageRecord;
}

function gatewaySpan(model: string, at: string, organisationId = 'org_a'): SpanRecord {
  return {
    traceId: 't',
    spanId: `${model}-${at}`,
    parentSpanId: null,
    name: 'chat',
    startTimeUnixNano: `${Date.parse(at)}000000`,
    endTimeUnixNano: `${Date.parse(at)}000000`,
    status: { code: 'ok' },
    attributes: { [GenAiAttr.operationName]: 'chat', [GatewayAttr.model]: model },
    organisationId,
    projectId: null,
    keyId: null,
    source: 'gateway',
  };
}

const flushed = () => new Promise((r) => setImmediate(r));

describe('LastUsedReporter', () => {
  it('sends a batch of 1,000 calls as one write with the latest start per definition and per gateway model', async () => {
    const registry = new CountingRegistry();
    const reporter = new LastUsedReporter(registry as unknown as RegistryLastUsed);
    const records = Array.from({ length: 1000 }, (_, i) => record(i % 2 === 0 ? 'mdef_a' : 'mdef_b', new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()));
    const spans = Array.from({ length: 1000 }, (_, i) => gatewaySpan(i % 2 === 0 ? 'team-gpt' : 'team-claude', new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()));
    reporter.note(spans, records);
    expect(registry.requests).toHaveLength(1);
    expect(registry.requests[0].definitions.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'mdef_a', at: '2026-01-01T00:16:38.000Z' },
      { id: 'mdef_b', at: '2026-01-01T00:16:39.000Z' },
    ]);
    expect(registry.requests[0].providerModels.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { organisationId: 'org_a', name: 'team-claude', at: '2026-01-01T00:16:39.000Z' },
      { organisationId: 'org_a', name: 'team-gpt', at: '2026-01-01T00:16:38.000Z' },
    ]);
    registry.answer();
    await reporter.settled();
  });

  it('folds batches that arrive while a write is in flight into one write sent as soon as it is answered', async () => {
    const registry = new CountingRegistry();
    const reporter = new LastUsedReporter(registry as unknown as RegistryLastUsed);
    reporter.note([], [record('mdef_a', '2026-01-01T00:00:00Z')]);
    for (let i = 1; i <= 50; i++) reporter.note([], [record('mdef_a', `2026-01-01T00:00:${String(i).padStart(2, '0')}Z`)]);
    expect(registry.requests).toHaveLength(1);
    // Once the write is answered, the 50 folded batches go as one more write, without waiting for more traffic.
    registry.answer();
    await flushed();
    expect(registry.requests).toHaveLength(2);
    expect(registry.requests[1].definitions).toEqual([{ id: 'mdef_a', at: '2026-01-01T00:00:50.000Z' }]);
    reporter.note([], [record('mdef_b', '2026-01-01T00:00:00Z')]);
    expect(registry.requests).toHaveLength(2);
    registry.answer();
    await flushed();
    expect(registry.requests).toHaveLength(3);
    expect(registry.requests[2].definitions).toEqual([{ id: 'mdef_b', at: '2026-01-01T00:00:00.000Z' }]);
    registry.answer();
    await reporter.settled();
    expect(registry.requests).toHaveLength(3);
  });

  it('writes nothing for a batch without priced records or gateway calls', () => {
    const registry = new CountingRegistry();
    const reporter = new LastUsedReporter(registry as unknown as RegistryLastUsed);
    reporter.note([{ ...gatewaySpan('x', '2026-01-01T00:00:00Z'), source: 'otlp' }], [record(null, '2026-01-01T00:00:00Z', false), record('mdef_a', '2026-01-01T00:00:00Z', false)]);
    expect(registry.requests).toHaveLength(0);
  });

  it('sends the times of a failed write again with the next batch, keeping the latest', async () => {
    const registry = new CountingRegistry();
    const reporter = new LastUsedReporter(registry as unknown as RegistryLastUsed);
    reporter.note([], [record('mdef_a', '2026-01-01T00:00:09Z')]);
    registry.answer(new Error('registry away'));
    await flushed();
    reporter.note([], [record('mdef_a', '2026-01-01T00:00:01Z')]);
    expect(registry.requests).toHaveLength(2);
    expect(registry.requests[1].definitions).toEqual([{ id: 'mdef_a', at: '2026-01-01T00:00:09.000Z' }]);
    registry.answer();
    await reporter.settled();
  });
});

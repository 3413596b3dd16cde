import type { ModelDefinitionView } from '#libs/contracts';
import { definitionView } from '../../../../test/support/model-definition-view.js';
import { Delay } from '../common/delay.js';
import { DefinitionsReadModel, loadBackoffMs } from './definitions-read-model.js';
import type { RegistryDefinitions } from './registry-definitions.js';

const AT = '2025-01-01T00:00:00.000Z';

function definition(id: string, input = '0.000001'): ModelDefinitionView {
  return definitionView({
    id,
    organisationId: 'org_a',
    projectId: null,
    name: id,
    matchPattern: `^${id}$`,
    tokenizer: 'none',
    priceVersions: [{ effectiveFrom: AT, prices: { input } }],
    createdAt: AT,
    updatedAt: AT,
  });
}

/** A registry whose answers the test scripts: an Error is thrown, a list is answered. */
class ScriptedRegistry {
  calls = 0;
  constructor(private readonly answers: Array<ModelDefinitionView[] | Error | (() => Promise<ModelDefinitionView[]>)>) {}

  async fetchAll(): Promise<ModelDefinitionView[]> {
    const answer = this.answers[Math.min(this.calls, this.answers.length - 1)];
    this.calls++;
    if (answer instanceof Error) throw answer;
    return typeof answer === 'function' ? answer() : answer;
  }
}

class RecordingDelay extends Delay {
  readonly waits: number[] = [];
  override async wait(ms: number): Promise<void> {
    this.waits.push(ms);
  }
}

function readModel(registry: ScriptedRegistry, delay = new RecordingDelay()): DefinitionsReadModel {
  return new DefinitionsReadModel(registry as unknown as RegistryDefinitions, delay);
}

const lookup = (model: string) => ({ organisationId: 'org_a', projectId: null, model, startedAt: new Date('2025-06-01T00:00:00Z') });

describe('DefinitionsReadModel', () => {
  let model: DefinitionsReadModel | undefined;
  afterEach(() => model?.stop());

  it('retries the first load with a growing backoff until the registry answers', async () => {
    const registry = new ScriptedRegistry([new Error('no answer'), new Error('no answer'), new Error('no answer'), [definition('m1')]]);
    const delay = new RecordingDelay();
    model = readModel(registry, delay);
    expect(model.isLoaded).toBe(false);
    await expect(model.loadUntilAnswered()).resolves.toBe(true);
    expect(delay.waits).toEqual([250, 500, 1000]);
    expect(model.catalogue.resolve(lookup('m1')).found).toBe(true);
  });

  it('caps the backoff at 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map(loadBackoffMs)).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  });

  it('gives up the first load when stopped', async () => {
    model = readModel(new ScriptedRegistry([new Error('no answer')]));
    const loading = model.loadUntilAnswered();
    model.stop();
    await expect(loading).resolves.toBe(false);
  });

  it('tells listeners of the first load and of each change, not of a reload that changed nothing', async () => {
    const registry = new ScriptedRegistry([[definition('m1')], [definition('m1')], [definition('m1', '0.000002')]]);
    model = readModel(registry);
    const heard: number[] = [];
    model.onChange(() => heard.push(model!.generation));
    await model.loadUntilAnswered();
    await model.reload();
    await model.reload();
    expect(heard).toEqual([1, 2]);
  });

  it('does not count a new last-used time as a change (metering writes it itself; a change would re-price)', async () => {
    const used = { ...definition('m1'), lastUsedAt: '2026-01-01T00:00:00.000Z' };
    const registry = new ScriptedRegistry([[definition('m1')], [used], [{ ...used, priority: 1 }]]);
    model = readModel(registry);
    const heard: number[] = [];
    model.onChange(() => heard.push(model!.generation));
    await model.loadUntilAnswered();
    await model.reload();
    expect(heard).toEqual([1]);
    await model.reload();
    expect(heard).toEqual([1, 2]);
  });

  it('reads again after a load under way when a change arrives meanwhile', async () => {
    let release!: () => void;
    const slow = () => new Promise<ModelDefinitionView[]>((resolve) => (release = () => resolve([definition('m1')])));
    const registry = new ScriptedRegistry([slow, [definition('m1'), definition('m2')]]);
    model = readModel(registry);
    const first = model.reload();
    const second = model.reload(); // the change event: the read under way may predate it
    await new Promise((r) => setImmediate(r));
    release();
    await Promise.all([first, second]);
    expect(registry.calls).toBe(2);
    expect(model.catalogue.resolve(lookup('m2')).found).toBe(true);
  });
});

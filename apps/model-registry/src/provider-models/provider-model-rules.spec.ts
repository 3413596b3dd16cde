import { fallbackProblems, limitProblems, targetsOfCreate } from './provider-model-rules.js';

describe('provider model rules', () => {
  it('reads the one-target form as one target of weight 1, and refuses both forms at once', () => {
    expect(targetsOfCreate({ connectionId: 'c1', upstreamModel: 'u' })).toEqual([{ connectionId: 'c1', upstreamModel: 'u', weight: 1 }]);
    expect(targetsOfCreate({ targets: [{ connectionId: 'c1', upstreamModel: 'u', weight: 3 }, { connectionId: 'c2', upstreamModel: 'v' }] })).toEqual([
      { connectionId: 'c1', upstreamModel: 'u', weight: 3 },
      { connectionId: 'c2', upstreamModel: 'v', weight: 1 },
    ]);
    expect(targetsOfCreate({ targets: [{ connectionId: 'c1', upstreamModel: 'u' }], connectionId: 'c1' })).toMatchObject({ field: 'targets' });
    expect(targetsOfCreate({})).toMatchObject({ field: 'connectionId' });
    expect(targetsOfCreate({ connectionId: 'c1' })).toMatchObject({ field: 'upstreamModel' });
  });

  it('wants the context window larger than the input limit and the default max_tokens within the output limit', () => {
    const base = { contextWindow: null, maxInputTokens: null, maxOutputTokens: null, defaultParameters: {} };
    expect(limitProblems({ ...base, contextWindow: 128000, maxInputTokens: 100000 })).toEqual([]);
    expect(limitProblems({ ...base, contextWindow: 100000, maxInputTokens: 100000 })).toEqual([
      { field: 'contextWindow', messages: ['contextWindow (100000) must be larger than maxInputTokens (100000)'] },
    ]);
    expect(limitProblems({ ...base, maxOutputTokens: 100, defaultParameters: { max_tokens: 101 } }).map((p) => p.field)).toEqual(['defaultParameters.max_tokens']);
    expect(limitProblems({ ...base, contextWindow: 1000, maxOutputTokens: 1001 }).map((p) => p.field)).toEqual(['maxOutputTokens']);
  });

  it('refuses a fallback cycle and names its path', () => {
    const others = [
      { name: 'b', projectId: null, fallbacks: ['c'] },
      { name: 'c', projectId: null, fallbacks: ['a'] },
      { name: 'a', projectId: null, fallbacks: [] },
    ];
    expect(fallbackProblems({ name: 'a', projectId: null, fallbacks: ['b'] }, others)).toEqual([
      { field: 'fallbacks', messages: ['the fallbacks form a cycle: a -> b -> c -> a'] },
    ]);
    // The same graph without the edge back is fine (a diamond is not a cycle).
    const diamond = [
      { name: 'b', projectId: null, fallbacks: ['d'] },
      { name: 'c', projectId: null, fallbacks: ['d'] },
      { name: 'd', projectId: null, fallbacks: [] },
    ];
    expect(fallbackProblems({ name: 'a', projectId: null, fallbacks: ['b', 'c'] }, diamond)).toEqual([]);
  });

  it('refuses a fallback that does not exist, is itself, or is another project\'s', () => {
    const others = [{ name: 'p1-model', projectId: 'p1', fallbacks: [] }];
    const [problem] = fallbackProblems({ name: 'a', projectId: null, fallbacks: ['a', 'ghost', 'p1-model'] }, others);
    expect(problem!.field).toBe('fallbacks');
    expect(problem!.messages).toEqual([
      'a cannot fall back to itself',
      'ghost is not a provider model of this organisation',
      'p1-model belongs to project p1, which not every caller of a can reach',
    ]);
    expect(fallbackProblems({ name: 'a', projectId: 'p1', fallbacks: ['p1-model'] }, others)).toEqual([]);
  });
});

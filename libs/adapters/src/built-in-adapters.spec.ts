import { AdapterRegistry, adapterProblem } from '#libs/adapter-sdk';
import { builtInAdapters, builtInAdaptersV2 } from './index.js';

describe('built-in adapters', () => {
  it('every v2 built-in passes the same checks as a plugin and registers through the same registry', () => {
    expect(builtInAdaptersV2.map((a) => [a.id, adapterProblem(a) ?? 'ok'])).toEqual([
      ['openai-compatible', 'ok'],
      ['openai', 'ok'],
      ['anthropic', 'ok'],
      ['bedrock', 'ok'],
      ['azure-openai', 'ok'],
      ['google-ai-studio', 'ok'],
      ['vertex-ai', 'ok'],
    ]);
    const registry = new AdapterRegistry();
    for (const a of builtInAdaptersV2) registry.register(a);
    expect(registry.getV2('anthropic')?.nativeFormat).toBe('anthropic');
    expect(registry.getV2('google-ai-studio')?.nativeFormat).toBe('gemini');
    expect(registry.getV2('vertex-ai')?.embedding).toBeDefined();
  });

  it('the v1 list is unchanged for the handler that still calls get()', () => {
    const registry = new AdapterRegistry();
    for (const a of builtInAdapters) registry.register(a);
    expect(registry.ids()).toEqual(['openai-compatible', 'openai']);
    expect(registry.get('openai')?.specificationVersion).toBe('v1');
    expect(registry.getV2('openai')?.nativeFormat).toBe('openai');
  });
});

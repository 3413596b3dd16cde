import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdapterLoadError } from '#libs/adapter-sdk';
import { loadConfig } from '#libs/config';
import { builtInAdapters, builtInAdaptersV2 } from './built-in-adapters.js';
import { loadAdapterRegistry } from './load-adapter-registry.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PLUGINS = path.resolve(here, '../../../test/fixtures/plugins');

describe('loadAdapterRegistry', () => {
  it('registers the built-ins: v2 for getV2, and today\'s v1 for get() where one exists', async () => {
    const registry = await loadAdapterRegistry(loadConfig({}));
    expect(registry.ids()).toEqual(builtInAdaptersV2.map((a) => a.id));
    expect(registry.getV2('openai')).toBe(builtInAdaptersV2[1]);
    expect(registry.getV2('anthropic')?.nativeFormat).toBe('anthropic');
    expect(registry.get('openai-compatible')).toBe(builtInAdapters[0]);
    expect(registry.get('openai')?.specificationVersion).toBe('v1');
    expect(registry.get('anthropic')).toBeUndefined();
  });

  it('loads ADAPTER_PLUGINS after the built-ins, relative paths from the working directory by default', async () => {
    const fromCwd = path.relative(process.cwd(), path.join(PLUGINS, 'v2-plugin.mjs'));
    const registry = await loadAdapterRegistry(loadConfig({ ADAPTER_PLUGINS: `./${fromCwd}` }));
    expect(registry.ids()).toEqual([...builtInAdaptersV2.map((a) => a.id), 'fixture-v2']);
    expect(registry.getV2('fixture-v2')?.providerName).toBe('fixture');
  });

  it('resolves relative paths against baseDir when given, in the configured order', async () => {
    const registry = await loadAdapterRegistry(loadConfig({ ADAPTER_PLUGINS: './v1-plugin.mjs,./v2-plugin.mjs' }), { baseDir: PLUGINS });
    expect(registry.ids().slice(builtInAdaptersV2.length)).toEqual(['fixture-v1', 'fixture-v2']);
  });

  it('stops at a plugin that fails, naming it and why', async () => {
    const err = await loadAdapterRegistry(loadConfig({ ADAPTER_PLUGINS: './v2-plugin.mjs,./throws-on-import-plugin.mjs' }), { baseDir: PLUGINS }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdapterLoadError);
    expect((err as AdapterLoadError).specifier).toBe('./throws-on-import-plugin.mjs');
    expect((err as AdapterLoadError).message).toBe('adapter plugin ./throws-on-import-plugin.mjs could not be loaded: FIXTURE_TOKEN is not set');
  });
});

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdapterLoadError, AdapterRegistry } from './adapter-registry.js';
import type { ChatOperation, ProviderAdapterV2 } from './adapter-v2.js';
import type { ProviderAdapter } from './adapter.js';
import { utf8 } from './testing/chunk-splits.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Plugins live outside libs/, as a third-party package would. */
const PLUGINS = path.resolve(here, '../../../test/fixtures/plugins');
const plugin = (name: string): string => path.join(PLUGINS, name);

const target = { baseUrl: 'http://127.0.0.1:7000', upstreamModel: 'up-model', settings: {}, secrets: { apiKey: 'k-1', token: 't-1' } };

describe('AdapterRegistry', () => {
  it('loads a v1 plugin from a file outside libs/, keeps it for the v1 handler and serves it through v2', async () => {
    const registry = new AdapterRegistry();
    const loaded = await registry.load(plugin('v1-plugin.mjs'));
    expect(loaded.map((a) => a.id)).toEqual(['fixture-v1']);
    expect(registry.get('fixture-v1')?.specificationVersion).toBe('v1');

    const v2 = registry.getV2('fixture-v1');
    expect(v2).toMatchObject({ specificationVersion: 'v2', id: 'fixture-v1', nativeFormat: 'openai' });
    const { request, warnings } = await (v2?.chat as ChatOperation).buildRequest(
      { model: 'gw', stream: true, includeUsage: false, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
      target,
    );
    expect(request.url).toBe('http://127.0.0.1:7000/generate');
    expect(request.headers['x-fixture-key']).toBe('k-1');
    expect(JSON.parse(request.body ?? '')).toEqual({ model: 'up-model', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    expect(warnings).toEqual([{ type: 'other', message: 'fixture-v1 ignores temperature' }]);
    // An OpenAI client's body reaches the v1 adapter as it came, as on today's path.
    const native = await (v2?.chat as ChatOperation).buildNativeRequest!({ model: 'gw', messages: [{ role: 'user', content: 'hi' }], logit_bias: { '1': 2 } }, target);
    expect(JSON.parse(native.request.body ?? '')).toEqual({ model: 'up-model', messages: [{ role: 'user', content: 'hi' }], logit_bias: { '1': 2 } });
    // v1 plugins' own error mapping still decides.
    expect(v2?.mapError(418, utf8('{"detail":"teapot"}'), {})).toMatchObject({ kind: 'bad_request', message: 'teapot' });
  });

  it('loads a v2 plugin (relative to baseDir) and serves it only through v2', async () => {
    const registry = new AdapterRegistry();
    await registry.load('./v2-plugin.mjs', { baseDir: PLUGINS });
    expect(registry.get('fixture-v2')).toBeUndefined();
    const chat = registry.getV2('fixture-v2')?.chat as ChatOperation;
    const { request, warnings } = await chat.buildRequest(
      { model: 'gw', stream: false, includeUsage: false, seed: 1, messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }] },
      target,
    );
    expect(request).toEqual({ url: 'http://127.0.0.1:7000/run', method: 'POST', headers: { authorization: 'signed:t-1' }, body: '{"prompt":"hello","model":"up-model"}' });
    expect(warnings).toEqual([{ type: 'unsupported-setting', setting: 'seed' }]);
    expect(chat.parseResponse(utf8('{"output":"hi there"}'))).toEqual({ value: { choices: [{ index: 0, content: [{ type: 'text', text: 'hi there' }], finishReason: 'stop' }] } });
    expect(registry.ids()).toEqual(['fixture-v2']);
  });

  it.each([
    ['throws-on-import-plugin.mjs', 'FIXTURE_TOKEN is not set'],
    ['no-adapter-plugin.mjs', 'it exports no adapter (expected `adapter`, `adapters` or a default export)'],
    ['future-contract-plugin.mjs', 'it implements adapter contract "v3"; this gateway supports v2, v1'],
    ['incomplete-v2-plugin.mjs', 'adapter incomplete-v2: chat needs createStreamDecoder'],
    ['does-not-exist.mjs', 'Cannot find module'],
  ])('refuses %s with an AdapterLoadError naming it and why, registering nothing', async (file, why) => {
    const registry = new AdapterRegistry();
    const err = await registry.load(plugin(file)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdapterLoadError);
    expect((err as AdapterLoadError).specifier).toBe(plugin(file));
    expect((err as AdapterLoadError).message).toContain(`adapter plugin ${plugin(file)} could not be loaded: `);
    expect((err as AdapterLoadError).message).toContain(why);
    expect(registry.ids()).toEqual([]);
  });

  it('names a missing package by its name', async () => {
    const err = await new AdapterRegistry().load('@nobody/gateway-adapter-missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdapterLoadError);
    expect((err as AdapterLoadError).message).toMatch(/^adapter plugin @nobody\/gateway-adapter-missing could not be loaded: .*@nobody\/gateway-adapter-missing/);
  });

  it('refuses a plugin whose adapter id is already taken, keeping the one registered first', async () => {
    const registry = new AdapterRegistry();
    await registry.load(plugin('v1-plugin.mjs'));
    const first = registry.get('fixture-v1');
    await expect(registry.load(plugin('v1-plugin.mjs'))).rejects.toThrow('the adapter id fixture-v1 is already taken');
    expect(registry.get('fixture-v1')).toBe(first);
  });

  it('serves a module that exports one id in both contract versions: get() the v1, getV2() the v2 itself', async () => {
    const registry = new AdapterRegistry();
    const v1 = (await import(plugin('v1-plugin.mjs'))).adapter as ProviderAdapter;
    const v2: ProviderAdapterV2 = { ...((await import(plugin('v2-plugin.mjs'))).adapters[0] as ProviderAdapterV2), id: 'fixture-v1' };
    registry.registerModule('both-versions', { adapters: [v2, v1] });
    expect(registry.get('fixture-v1')).toBe(v1);
    expect(registry.getV2('fixture-v1')).toBe(v2);
    expect(registry.ids()).toEqual(['fixture-v1']);
  });

  it('refuses a module that exports one id twice in the same contract version, registering nothing', async () => {
    const registry = new AdapterRegistry();
    const v2 = (await import(plugin('v2-plugin.mjs'))).adapters[0] as ProviderAdapterV2;
    expect(() => registry.registerModule('twice', { adapters: [v2, { ...v2 }] })).toThrow('adapter plugin twice could not be loaded: the adapter id fixture-v2 is already taken');
    expect(registry.ids()).toEqual([]);
  });

  it('loads a plugin package by its directory (package.json exports), with its v1 for get() and its v2 for getV2()', async () => {
    const registry = new AdapterRegistry();
    await registry.load('./acme-adapter', { baseDir: PLUGINS });
    expect(registry.get('acme')?.specificationVersion).toBe('v1');
    const acme = registry.getV2('acme')!;
    expect(acme.validateSettings({ apiKey: 'ak-1' })).toEqual({ value: { settings: { baseUrl: 'https://api.acme.example/v1' }, secrets: { apiKey: 'ak-1' } } });
    const chat = acme.chat as ChatOperation;
    const { request, warnings } = await chat.buildRequest(
      { model: 'gw', stream: true, includeUsage: false, seed: 3, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
      { ...target, baseUrl: 'http://127.0.0.1:7000/v1' },
    );
    expect(request.url).toBe('http://127.0.0.1:7000/v1/chat/completions');
    expect(request.headers).toMatchObject({ 'x-acme-key': 'k-1', 'x-acme-contract': 'v2' });
    expect(JSON.parse(request.body ?? '')).toEqual({ model: 'up-model', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    expect(warnings).toEqual([{ type: 'unsupported-setting', setting: 'seed' }]);
    // Its stream decoder takes chunks cut anywhere and reports a stream without [DONE].
    const sse = 'data: {"id":"c1","model":"up-model","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\ndata: {"id":"c1","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n';
    const decoder = chat.createStreamDecoder();
    const parts = [...decoder.push(utf8(sse.slice(0, 50))), ...decoder.push(utf8(sse.slice(50))), ...decoder.end()];
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => (p as { text: string }).text).join('')).toBe('Hello');
    expect(parts.find((p) => p.type === 'usage')).toMatchObject({ usage: { input: { total: 3 }, output: { total: 2 } } });
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { message: 'the Acme stream ended before [DONE]' } });
  });
});

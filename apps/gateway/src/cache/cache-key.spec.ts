import type { Route } from '../read-model/read-model.service.js';
import { cacheKey, canonicalJson, routeIdentity } from './cache-key.js';

const base = { organisationId: 'org-a', route: 'my-gpt', clientFormat: 'openai', endpoint: 'chat' };
const body = { model: 'my-gpt', messages: [{ role: 'user', content: 'hi' }], temperature: 0 };

describe('cacheKey', () => {
  it('is the same for the same request whatever the order of its keys', () => {
    const reordered = { temperature: 0, messages: [{ content: 'hi', role: 'user' }], model: 'my-gpt' };
    expect(cacheKey({ ...base, body: reordered })).toBe(cacheKey({ ...base, body }));
    expect(cacheKey({ ...base, body })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('never matches across organisations, routes, client formats or endpoints', () => {
    const key = cacheKey({ ...base, body });
    expect(cacheKey({ ...base, organisationId: 'org-b', body })).not.toBe(key);
    expect(cacheKey({ ...base, route: 'other', body })).not.toBe(key);
    expect(cacheKey({ ...base, clientFormat: 'anthropic', body })).not.toBe(key);
    expect(cacheKey({ ...base, endpoint: 'completion', body })).not.toBe(key);
  });

  it('cannot be fooled by parts that run together', () => {
    expect(cacheKey({ ...base, organisationId: 'org-a', route: 'bmy-gpt', body })).not.toBe(cacheKey({ ...base, organisationId: 'org-ab', route: 'my-gpt', body }));
  });

  it('changes with anything that changes the answer, and not with the end user or stream options beyond include_usage', () => {
    const key = cacheKey({ ...base, body });
    expect(cacheKey({ ...base, body: { ...body, temperature: 1 } })).not.toBe(key);
    expect(cacheKey({ ...base, body: { ...body, messages: [{ role: 'user', content: 'hi!' }] } })).not.toBe(key);
    expect(cacheKey({ ...base, body: { ...body, stream: true } })).not.toBe(key);
    expect(cacheKey({ ...base, body: { ...body, user: 'alice' } })).toBe(key);
    expect(cacheKey({ ...base, body: { ...body, metadata: { user_id: 'alice' } } })).toBe(key);
    expect(cacheKey({ ...base, body: { ...body, stream_options: { include_usage: false } } })).toBe(key);
    // The usage chunk is part of a replayed stream's bytes: asking for it is another answer.
    expect(cacheKey({ ...base, body: { ...body, stream_options: { include_usage: true } } })).not.toBe(key);
  });
});

describe('routeIdentity', () => {
  const route = (name: string, modelId: string | undefined, connectionId: string): Route =>
    ({ name, model: modelId ? { id: modelId } : undefined, targets: [{ connection: { id: connectionId } }] }) as unknown as Route;

  it('tells apart two projects’ models of one name, and slug addressing through two connections', () => {
    expect(routeIdentity(route('team-gpt', 'pm_a', 'conn_1'))).not.toBe(routeIdentity(route('team-gpt', 'pm_b', 'conn_1')));
    expect(routeIdentity(route('openai/gpt-4o', undefined, 'conn_1'))).not.toBe(routeIdentity(route('openai/gpt-4o', undefined, 'conn_2')));
    expect(routeIdentity(route('team-gpt', 'pm_a', 'conn_1'))).toBe(routeIdentity(route('team-gpt', 'pm_a', 'conn_9')));
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and leaves undefined members out as JSON does', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: undefined, x: null }], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[1,{"x":null,"z":1}]},"b":1}');
    expect(canonicalJson([undefined, 'é'])).toBe('[null,"é"]');
  });
});

import { connectionPolicy, splitConnectionPolicy, type ConnectionPolicy } from './connection-policy.js';

const defaults: ConnectionPolicy = {
  connectTimeoutMs: 10_000,
  firstByteTimeoutMs: 600_000,
  totalTimeoutMs: 600_000,
  maxRetries: 0,
  retryDelayMs: 500,
  circuitFailureThreshold: 5,
  circuitHalfOpenAfterMs: 30_000,
};

describe('connection policy settings', () => {
  it("takes the policy's settings out of a connection's settings and leaves the adapter's", () => {
    const split = splitConnectionPolicy({ organization: 'org-1', maxRetries: 2, totalTimeoutMs: 5000, circuitFailureThreshold: null });
    expect(split).toEqual({ policy: { maxRetries: 2, totalTimeoutMs: 5000 }, adapterSettings: { organization: 'org-1' }, errors: [] });
  });

  it('refuses a value out of bounds or not an integer, naming settings.<name>', () => {
    const split = splitConnectionPolicy({ maxRetries: 11, retryDelayMs: 1.5, connectTimeoutMs: '100' });
    expect(split.errors).toEqual([
      { field: 'settings.maxRetries', messages: ['must be an integer from 0 to 10'] },
      { field: 'settings.retryDelayMs', messages: ['must be an integer from 1 to 30000'] },
      { field: 'settings.connectTimeoutMs', messages: ['must be an integer from 100 to 600000'] },
    ]);
  });

  it('a connection without policy settings gets the defaults; given ones override them', () => {
    expect(connectionPolicy({ organization: 'x' }, defaults)).toEqual(defaults);
    expect(connectionPolicy({ maxRetries: 3, firstByteTimeoutMs: 2000 }, defaults)).toEqual({ ...defaults, maxRetries: 3, firstByteTimeoutMs: 2000 });
  });
});

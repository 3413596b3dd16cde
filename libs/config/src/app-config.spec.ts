import { ConfigError, loadConfig } from './app-config.js';

describe('loadConfig', () => {
  it('gives the embedded defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.dataDir).toBe('./data');
    expect(config.embedded).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads distributed mode from DATABASE_URL and NATS_URL', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@h/db', NATS_URL: 'nats://127.0.0.1:4222', PORT: '9000' });
    expect(config.embedded).toBe(false);
    expect(config.port).toBe(9000);
  });

  it('names the variable when a value is bad', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ VAULT_MASTER_KEY: 'short' })).toThrow(/VAULT_MASTER_KEY/);
    expect(() => loadConfig({ NATS_URL: 'http://x' , DATABASE_URL: 'postgres://x/y'})).toThrow(/NATS_URL/);
    expect(() => loadConfig({ METERING_NICE: '20' })).toThrow(/METERING_NICE must not be greater than 19/);
    expect(() => loadConfig({ METERING_NICE: '-1' })).toThrow(/METERING_NICE must not be less than 0/);
  });

  it('bounds what one request and one client may cost, with defaults above legitimate traffic', () => {
    const config = loadConfig({});
    expect(config.v1MaxBodyBytes).toBe(32 * 1024 * 1024);
    expect(config.adminMaxBodyBytes).toBe(1024 * 1024);
    expect(config.jsonMaxArrayItems).toBeGreaterThanOrEqual(200_000); // a long token-array prompt
    expect(config.maxConcurrentRequestsPerAddress).toBeGreaterThan(1000); // the bench's c=1000 from one address
    expect(loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000' }).httpRequestTimeoutMs).toBe(1000);
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS must not be greater than HTTP_REQUEST_TIMEOUT_MS/);
    expect(() => loadConfig({ JSON_MAX_DEPTH: '100000' })).toThrow(/JSON_MAX_DEPTH/);
    expect(() => loadConfig({ V1_MAX_BODY_BYTES: '10' })).toThrow(/V1_MAX_BODY_BYTES/);
  });

  it('bounds the response cache per replica, and lets 0 turn it off', () => {
    expect(loadConfig({})).toMatchObject({ responseCacheMaxBytes: 64 * 1024 * 1024, responseCacheDefaultTtlSeconds: 300 });
    expect(loadConfig({ RESPONSE_CACHE_MAX_BYTES: '0', RESPONSE_CACHE_DEFAULT_TTL_SECONDS: '60' })).toMatchObject({ responseCacheMaxBytes: 0, responseCacheDefaultTtlSeconds: 60 });
    expect(() => loadConfig({ RESPONSE_CACHE_MAX_BYTES: 'lots' })).toThrow(/RESPONSE_CACHE_MAX_BYTES/);
    expect(() => loadConfig({ RESPONSE_CACHE_DEFAULT_TTL_SECONDS: '0' })).toThrow(/RESPONSE_CACHE_DEFAULT_TTL_SECONDS/);
  });

  it('refuses half of distributed mode', () => {
    try {
      loadConfig({ DATABASE_URL: 'postgres://u@h/db' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toEqual([expect.stringContaining('NATS_URL must be set')]);
    }
  });
});

describe('UPSTREAM_ALLOWLIST', () => {
  it('is empty by default, so no non-public upstream is called', () => {
    expect(loadConfig({}).upstreamAllowlist).toBe('');
  });

  it('takes CIDRs, addresses and host names', () => {
    expect(loadConfig({ UPSTREAM_ALLOWLIST: '10.0.0.0/8, fd00::/8,192.168.1.5, ollama.internal,*.corp.example' }).upstreamAllowlist).toContain('ollama.internal');
  });

  it('stops the start naming the variable and each bad entry', () => {
    try {
      loadConfig({ UPSTREAM_ALLOWLIST: '10.0.0.0/8,10.0.0.0/40,http://ollama:11434' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toEqual([
        expect.stringMatching(/^UPSTREAM_ALLOWLIST has entries that are neither a CIDR .*"10\.0\.0\.0\/40", "http:\/\/ollama:11434"/),
      ]);
    }
  });
});

describe('ADAPTER_PLUGINS', () => {
  it('is empty by default: only the built-in adapters load', () => {
    expect(loadConfig({}).adapterPlugins).toEqual([]);
    expect(loadConfig({ ADAPTER_PLUGINS: ' ' }).adapterPlugins).toEqual([]);
  });

  it('takes comma-separated package names and paths, in order', () => {
    expect(loadConfig({ ADAPTER_PLUGINS: 'gateway-adapter-x, @acme/gw-adapter,./plugins/echo.mjs,../up/one.js,/opt/p/index.mjs,@acme/pkg/sub' }).adapterPlugins).toEqual([
      'gateway-adapter-x',
      '@acme/gw-adapter',
      './plugins/echo.mjs',
      '../up/one.js',
      '/opt/p/index.mjs',
      '@acme/pkg/sub',
    ]);
  });

  it('stops the start naming the variable and each entry that is neither a package name nor a path', () => {
    try {
      loadConfig({ ADAPTER_PLUGINS: 'good-one,,My Adapter,./ok.mjs' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toEqual([expect.stringMatching(/^ADAPTER_PLUGINS must be comma-separated package names .*these are neither: "", "My Adapter" \(got/)]);
    }
  });
});

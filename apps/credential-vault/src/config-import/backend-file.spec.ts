import { parseBackendFile } from './backend-file.js';

const VALID = `
backend_type: "custom"
api_base_url: "https://internal-llm.example.com/v1"
api_key_env_var: "INTERNAL_LLM_API_KEY"
headers:
  X-Organization-ID: "org-123"
  X-User: "{{user}}"
timeout: 60
max_retries: 3
retry_delay: 1.5
models:
  "company-gpt-large":
    limits:
      context_window: 32000
      max_input_tokens: 24000
      max_output_tokens: 8000
      requests_per_minute: 100
    parameters:
      temperature: 0.3
      top_p: 0.9
  "fast":
    upstream_model: "llama3:8b"
`;

describe('parseBackendFile (002 backend.yaml)', () => {
  it("maps 002's fields onto a connection and its models", () => {
    const parsed = parseBackendFile('internal-llm', VALID);
    expect(parsed).toEqual({
      ok: true,
      file: {
        name: 'internal-llm',
        adapter: 'openai-compatible',
        baseUrl: 'https://internal-llm.example.com/v1',
        secretEnvVars: { apiKey: 'INTERNAL_LLM_API_KEY' },
        headers: { 'X-Organization-ID': 'org-123', 'X-User': '{{user}}' },
        settings: { totalTimeoutMs: 60000, maxRetries: 3, retryDelayMs: 1500 },
        models: [
          {
            name: 'company-gpt-large',
            upstreamModel: 'company-gpt-large',
            contextWindow: 32000,
            maxInputTokens: 24000,
            maxOutputTokens: 8000,
            requestsPerMinute: 100,
            tokensPerMinute: null,
            defaultParameters: { temperature: 0.3, top_p: 0.9 },
          },
          { name: 'fast', upstreamModel: 'llama3:8b', contextWindow: null, maxInputTokens: null, maxOutputTokens: null, requestsPerMinute: null, tokensPerMinute: null, defaultParameters: {} },
        ],
      },
    });
  });

  it("turns auth_type custom into the openai-compatible adapter's authMode header", () => {
    const parsed = parseBackendFile('x', 'backend_type: custom\napi_base_url: https://a.example/v1\napi_key_env_var: K\nauth_type: custom\nauth_header: X-API-Key\n');
    expect(parsed).toMatchObject({ ok: true, file: { headers: {}, settings: { authMode: 'header', authHeader: 'X-API-Key' }, secretEnvVars: { apiKey: 'K' } } });
  });

  it('reports every problem by field: unknown fields, a secret in the file, bad limits and parameters', () => {
    const parsed = parseBackendFile(
      'bad',
      `backend_type: custom
api_key: sk-should-not-be-here
colour: blue
models:
  m:
    limits: { context_window: 1000, max_input_tokens: 2000, speed: 3 }
    parameters: { temperature: 9, warmth: 1 }
`,
    );
    expect(parsed.ok).toBe(false);
    const fields = !parsed.ok ? parsed.errors.map((e) => e.field) : [];
    expect(fields).toEqual(
      expect.arrayContaining(['api_key', 'colour', 'models.m.limits.speed', 'models.m.limits.max_input_tokens', 'models.m.parameters.temperature', 'models.m.parameters.warmth']),
    );
  });

  it('reports broken YAML as one error for the file', () => {
    const parsed = parseBackendFile('broken', 'backend_type: custom\nmodels: [unclosed\n');
    expect(parsed).toEqual({ ok: false, errors: [{ field: '', message: expect.stringContaining('not valid YAML') }] });
  });
});

describe('the example configuration directory (deploy/config-example)', () => {
  it('holds only valid backend files', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const path = await import('node:path');
    const { fileURLToPath } = await import('node:url');
    const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../deploy/config-example/backends');
    const names = await readdir(dir);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const parsed = parseBackendFile(name, await readFile(path.join(dir, name, 'backend.yaml'), 'utf8'));
      expect({ name, errors: parsed.ok ? [] : parsed.errors }).toEqual({ name, errors: [] });
    }
  });
});

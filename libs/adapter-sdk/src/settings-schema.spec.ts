import { validateSettings, type SettingsSchema } from './settings-schema.js';

const schema: SettingsSchema = {
  fields: [
    { name: 'apiKey', kind: 'secret', type: 'string', required: true, description: 'key' },
    { name: 'baseUrl', kind: 'setting', type: 'url', required: false, default: 'https://api.example.com', description: 'root' },
    { name: 'region', kind: 'setting', type: 'string', required: false, enum: ['eu', 'us'], description: 'region' },
    { name: 'maxTokens', kind: 'setting', type: 'integer', required: false, default: 1024, description: 'max' },
    { name: 'beta', kind: 'setting', type: 'boolean', required: false, description: 'beta' },
  ],
};

describe('validateSettings', () => {
  it('separates secrets from settings and fills defaults', () => {
    expect(validateSettings(schema, { apiKey: 'sk-1', region: 'eu', beta: true })).toEqual({
      value: { secrets: { apiKey: 'sk-1' }, settings: { baseUrl: 'https://api.example.com', region: 'eu', maxTokens: 1024, beta: true } },
    });
  });

  it('reports every bad field at once, one entry each, and refuses unknown fields', () => {
    expect(validateSettings(schema, { baseUrl: 'not a url', region: 'mars', maxTokens: 1.5, beta: 'yes', apiKye: 'typo' })).toEqual({
      errors: [
        { field: 'apiKye', message: 'unknown setting; this adapter accepts apiKey, baseUrl, region, maxTokens, beta' },
        { field: 'apiKey', message: 'is required' },
        { field: 'baseUrl', message: 'must be an absolute URL' },
        { field: 'region', message: 'must be one of eu, us' },
        { field: 'maxTokens', message: 'must be an integer' },
        { field: 'beta', message: 'must be true or false' },
      ],
    });
  });

  it('refuses input that is not an object', () => {
    expect(validateSettings(schema, ['sk'])).toEqual({ errors: [{ field: '', message: 'settings must be an object' }] });
  });
});

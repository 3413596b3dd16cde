import { randomBytes } from 'node:crypto';
import { EnvelopeCipher, SecretUnreadableError } from '../crypto/envelope-cipher.js';
import { MasterKeyRing } from '../crypto/master-key-ring.js';
import { ConnectionSecrets } from './connection-secrets.js';

const credentials = { secrets: { apiKey: 'sk-live-0123456789abcdef' }, headers: { 'OpenAI-Organization': 'org-secret-value' } };
const cipher = new EnvelopeCipher(MasterKeyRing.parse(randomBytes(32).toString('base64')));
const owner = { organisationId: 'org_a', id: 'conn_1' };
const contextOf = (o: typeof owner) => Buffer.from(JSON.stringify(['vault.connection.v1', o.organisationId, o.id]), 'utf8');

describe('ConnectionSecrets', () => {
  const secrets = new ConnectionSecrets(cipher);

  it('opens every secret field of a typed connection, with or without an API key', () => {
    const typed = { secrets: { accessKeyId: 'AKIAEXAMPLE0001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG' }, headers: {} };
    expect(secrets.open(owner, secrets.seal(owner, typed))).toEqual(typed);
    const withKey = { secrets: { apiKey: 'sk-0123456789', serviceAccountJson: '{"type":"service_account"}' }, headers: { 'X-A': 'b' } };
    expect(secrets.open(owner, secrets.seal(owner, withKey))).toEqual(withKey);
  });

  it('opens a payload sealed before typed connections ({apiKey, headers} only)', () => {
    const old = cipher.seal(Buffer.from(JSON.stringify({ apiKey: 'sk-old-row-0001', headers: { 'X-Team': 'red' } }), 'utf8'), contextOf(owner));
    expect(secrets.open(owner, old)).toEqual({ secrets: { apiKey: 'sk-old-row-0001' }, headers: { 'X-Team': 'red' } });
  });

  it('refuses a payload whose secrets are not strings', () => {
    const bad = cipher.seal(Buffer.from(JSON.stringify({ headers: {}, secrets: { region: 3 } }), 'utf8'), contextOf(owner));
    expect(() => secrets.open(owner, bad)).toThrow(SecretUnreadableError);
  });

  it('opens the key and headers it sealed for the same connection', () => {
    const sealed = secrets.seal({ organisationId: 'org_a', id: 'conn_1' }, credentials);
    expect(secrets.open({ organisationId: 'org_a', id: 'conn_1' }, sealed)).toEqual(credentials);
  });

  it('refuses the sealed payload of one connection on another connection id', () => {
    const sealed = secrets.seal({ organisationId: 'org_a', id: 'conn_1' }, credentials);
    expect(() => secrets.open({ organisationId: 'org_a', id: 'conn_2' }, sealed)).toThrow(SecretUnreadableError);
  });

  it('refuses the sealed payload of one organisation in another organisation, same connection id', () => {
    const sealed = secrets.seal({ organisationId: 'org_a', id: 'conn_1' }, credentials);
    expect(() => secrets.open({ organisationId: 'org_b', id: 'conn_1' }, sealed)).toThrow(SecretUnreadableError);
  });
});

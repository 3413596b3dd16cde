import { randomBytes } from 'node:crypto';
import { EnvelopeCipher, SecretUnreadableError } from '../crypto/envelope-cipher.js';
import { MasterKeyRing } from '../crypto/master-key-ring.js';
import { ConnectionSecrets } from './connection-secrets.js';

const secrets = new ConnectionSecrets(new EnvelopeCipher(MasterKeyRing.parse(randomBytes(32).toString('base64'))));
const credentials = { apiKey: 'sk-live-0123456789abcdef', headers: { 'OpenAI-Organization': 'org-secret-value' } };

describe('ConnectionSecrets', () => {
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

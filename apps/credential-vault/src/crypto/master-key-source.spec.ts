import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentMasterKeySource, MASTER_KEY_FILE } from './master-key-source.js';
import { MasterKeyRing } from './master-key-ring.js';

/** Records what the source logs, so a test can check the production warning. */
const quiet = {
  warnings: [] as string[],
  warn(message: string): void {
    this.warnings.push(message);
  },
  log(): void {},
};

describe('EnvironmentMasterKeySource', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'vault-keys-'));
    quiet.warnings = [];
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it('uses VAULT_MASTER_KEY when it is set, first key active', async () => {
    const spec = `b:${randomBytes(32).toString('base64')},a:${randomBytes(32).toString('base64')}`;
    const ring = await new EnvironmentMasterKeySource({ vaultMasterKey: spec, embedded: false, dataDir }, quiet).load();
    expect(ring.activeId).toBe('b');
    expect(ring.retiredIds).toEqual(['a']);
  });

  it('refuses to start in distributed mode without VAULT_MASTER_KEY, naming the variable', async () => {
    const source = new EnvironmentMasterKeySource({ vaultMasterKey: undefined, embedded: false, dataDir }, quiet);
    await expect(source.load()).rejects.toThrow(/VAULT_MASTER_KEY/);
  });

  it('in embedded mode without VAULT_MASTER_KEY generates a key file readable by its owner only, and warns', async () => {
    const ring = await new EnvironmentMasterKeySource({ vaultMasterKey: undefined, embedded: true, dataDir: path.join(dataDir, 'nested') }, quiet).load();
    const file = path.join(dataDir, 'nested', MASTER_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const material = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
    expect(material.length).toBe(32);
    expect(ring.activeId).toBe(MasterKeyRing.idFor(material));
    expect(quiet.warnings).toEqual([expect.stringMatching(/in production set VAULT_MASTER_KEY/)]);
  });

  it('reuses the generated key file on the next embedded start', async () => {
    const first = await new EnvironmentMasterKeySource({ vaultMasterKey: undefined, embedded: true, dataDir }, quiet).load();
    const second = await new EnvironmentMasterKeySource({ vaultMasterKey: undefined, embedded: true, dataDir }, quiet).load();
    expect(second.activeId).toBe(first.activeId);
  });

  it('keeps a generated embedded key readable (retired) once VAULT_MASTER_KEY is set, so its rows can be re-wrapped', async () => {
    const generated = await new EnvironmentMasterKeySource({ vaultMasterKey: undefined, embedded: true, dataDir }, quiet).load();
    const spec = `prod:${randomBytes(32).toString('base64')}`;
    const ring = await new EnvironmentMasterKeySource({ vaultMasterKey: spec, embedded: true, dataDir }, quiet).load();
    expect(ring.activeId).toBe('prod');
    expect(ring.retiredIds).toEqual([generated.activeId]);
  });

  it('refuses a key file that is not a 32-byte key instead of silently making a new one', async () => {
    await writeFile(path.join(dataDir, MASTER_KEY_FILE), 'not a key\n', { mode: 0o600 });
    const source = new EnvironmentMasterKeySource({ vaultMasterKey: undefined, embedded: true, dataDir }, quiet);
    await expect(source.load()).rejects.toThrow(/vault-master.key/);
  });
});

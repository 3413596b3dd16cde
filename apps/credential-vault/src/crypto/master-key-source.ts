import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Logger } from '@nestjs/common';
import { ConfigError, ENV_NAMES, type AppConfig } from '#libs/config';
import { MasterKeyRing } from './master-key-ring.js';

/** Where master keys come from. Tests give a fixed ring; production reads the environment (later: a KMS). */
export abstract class MasterKeySource {
  abstract load(): Promise<MasterKeyRing>;

  /**
   * Makes a new active key where this source keeps its keys, the current ones kept after it, and
   * answers the new ring. Only a source that generates its keys can (the embedded key file); one
   * whose keys an operator provides answers undefined: put the new key first there instead.
   */
  async generate(): Promise<MasterKeyRing | undefined> {
    return undefined;
  }
}

/** A fixed ring, for tests and for callers that already hold the keys. */
export class FixedMasterKeySource extends MasterKeySource {
  constructor(private readonly ring: MasterKeyRing) {
    super();
  }

  async load(): Promise<MasterKeyRing> {
    return this.ring;
  }
}

export const MASTER_KEY_FILE = 'vault-master.key';

type KeyConfig = Pick<AppConfig, 'vaultMasterKey' | 'embedded' | 'dataDir'> & Partial<Pick<AppConfig, 'vaultMasterKeyFile'>>;
type KeyLogger = Pick<Logger, 'warn' | 'log'>;

/**
 * VAULT_MASTER_KEY when set. Without it, embedded mode (a laptop, a demo) generates a key once and
 * keeps it beside the data directory, because the product must start with nothing configured;
 * distributed mode refuses to start, because a key stored on one replica's disk would leave the
 * others unable to read anything.
 */
export class EnvironmentMasterKeySource extends MasterKeySource {
  constructor(
    private readonly config: KeyConfig,
    private readonly logger: KeyLogger = new Logger('MasterKeys'),
  ) {
    super();
  }

  async load(): Promise<MasterKeyRing> {
    const file = path.join(path.resolve(this.config.dataDir), MASTER_KEY_FILE);
    const configured = await this.configuredRing();
    if (configured !== undefined) {
      const ring = configured;
      if (!this.config.embedded) return ring;
      // An embedded install that started without the variable has rows under the generated key:
      // keep that key readable so the start-up rotation moves them to the configured one.
      const generated = await this.readKeyFile(file);
      if (!generated || ring.has(generated.activeId)) return ring;
      this.logger.log(`${ENV_NAMES.vaultMasterKey} is set; the generated key ${generated.activeId} in ${file} is kept for reading only`);
      return ring.withRetired(generated);
    }
    if (!this.config.embedded) {
      throw new ConfigError([
        `${ENV_NAMES.vaultMasterKey} must be set in distributed mode (base64 of 32 random bytes, e.g. \`openssl rand -base64 32\`)`,
      ]);
    }
    const ring = (await this.readKeyFile(file)) ?? (await this.generateKeyFile(file));
    this.logger.warn(
      `using the generated vault master key in ${file}; in production set ${ENV_NAMES.vaultMasterKey} (and keep a copy: without it no stored credential can be read)`,
    );
    return ring;
  }

  /**
   * The operator's keys: VAULT_MASTER_KEY_FILE (re-read at each load, so a key put first in it is
   * used without a restart), and VAULT_MASTER_KEY (kept readable after the file's keys).
   */
  private async configuredRing(): Promise<MasterKeyRing | undefined> {
    const fromEnv = this.config.vaultMasterKey !== undefined ? MasterKeyRing.parse(this.config.vaultMasterKey) : undefined;
    if (this.config.vaultMasterKeyFile === undefined) return fromEnv;
    const fromFile = await this.readKeyFile(path.resolve(this.config.vaultMasterKeyFile));
    if (!fromFile) throw new ConfigError([`${ENV_NAMES.vaultMasterKeyFile} names ${this.config.vaultMasterKeyFile}, which does not exist`]);
    return fromEnv ? fromFile.withRetired(fromEnv) : fromFile;
  }

  /** Embedded mode without configured keys: a new key first in the generated key file, the old ones after it (written whole, then renamed into place). */
  override async generate(): Promise<MasterKeyRing | undefined> {
    if (!this.config.embedded || this.config.vaultMasterKey !== undefined || this.config.vaultMasterKeyFile !== undefined) return undefined;
    const file = path.join(path.resolve(this.config.dataDir), MASTER_KEY_FILE);
    const current = (await readFile(file, 'utf8')).trim();
    const material = randomBytes(32);
    const encoded = material.toString('base64');
    material.fill(0);
    const next = `${encoded},${current}`;
    const ring = MasterKeyRing.parse(next);
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, `${next}\n`, { mode: 0o600, flag: 'wx' });
    await rename(temporary, file);
    this.logger.log(`generated a new vault master key ${ring.activeId} in ${file}; the previous ones are kept after it for reading`);
    return ring;
  }

  private async readKeyFile(file: string): Promise<MasterKeyRing | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if (((await stat(file)).mode & 0o077) !== 0) {
      this.logger.warn(`${file} is readable by other users; restricting it to its owner`);
      await chmod(file, 0o600);
    }
    try {
      return MasterKeyRing.parse(text.trim());
    } catch (err) {
      throw new ConfigError([`${file} does not hold a vault master key: ${(err as Error).message}`]);
    }
  }

  private async generateKeyFile(file: string): Promise<MasterKeyRing> {
    await mkdir(path.dirname(file), { recursive: true });
    const material = randomBytes(32);
    const encoded = material.toString('base64');
    material.fill(0);
    try {
      // 'wx': never overwrite a key another start wrote meanwhile; losing it would lose every secret.
      await writeFile(file, `${encoded}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return (await this.readKeyFile(file))!;
      throw err;
    }
    await chmod(file, 0o600); // the umask may have narrowed the mode further; make it exactly 0600
    this.logger.log(`generated a vault master key in ${file}`);
    return MasterKeyRing.parse(encoded);
  }
}

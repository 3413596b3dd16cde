import { createHash, createSecretKey, type KeyObject } from 'node:crypto';

const KEY_BYTES = 32;
const ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export interface MasterKey {
  id: string;
  key: KeyObject;
}

/**
 * The master keys this process holds: the active one wraps new data keys, the retired ones only
 * unwrap (and are re-wrapped away from at start). Key material stays in KeyObjects and is never
 * printed: JSON and string forms show the ids only.
 */
export class MasterKeyRing {
  readonly #keys: ReadonlyMap<string, KeyObject>;
  readonly activeId: string;

  constructor(keys: MasterKey[]) {
    if (keys.length === 0) throw new Error('a master key ring needs at least one key');
    const map = new Map<string, KeyObject>();
    for (const { id, key } of keys) {
      if (!ID_PATTERN.test(id)) throw new Error(`master key id ${JSON.stringify(id)} must be 1-32 letters, digits, _ or -`);
      if (map.has(id)) throw new Error(`master key id ${id} is listed twice`);
      if (key.symmetricKeySize !== KEY_BYTES) throw new Error(`master key ${id} must be 32 bytes`);
      map.set(id, key);
    }
    this.#keys = map;
    this.activeId = keys[0].id;
  }

  /**
   * Reads the VAULT_MASTER_KEY format: `base64key` or `id:base64key,id:base64key`, the first one
   * active. A key given without an id is known by the first 8 hex digits of its sha256, so the
   * same key always gets the same id.
   */
  static parse(spec: string): MasterKeyRing {
    const keys = spec
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.length > 0)
      .map((part): MasterKey => {
        const colon = part.indexOf(':');
        const material = Buffer.from(colon < 0 ? part : part.slice(colon + 1), 'base64');
        if (material.length !== KEY_BYTES) throw new Error(`every master key must be base64 of 32 bytes (got ${material.length} bytes)`);
        const id = colon < 0 ? MasterKeyRing.idFor(material) : part.slice(0, colon);
        const key = createSecretKey(material);
        material.fill(0);
        return { id, key };
      });
    return new MasterKeyRing(keys);
  }

  static idFor(material: Buffer): string {
    return createHash('sha256').update(material).digest('hex').slice(0, 8);
  }

  /** A ring that also reads with `other`'s keys (kept as retired when their ids are new). */
  withRetired(other: MasterKeyRing): MasterKeyRing {
    const extra = [...other.#keys].filter(([id]) => !this.#keys.has(id)).map(([id, key]) => ({ id, key }));
    return new MasterKeyRing([...[...this.#keys].map(([id, key]) => ({ id, key })), ...extra]);
  }

  get active(): MasterKey {
    return { id: this.activeId, key: this.#keys.get(this.activeId)! };
  }

  /** Ids of the keys that may still unwrap old data keys but never wrap new ones. */
  get retiredIds(): string[] {
    return [...this.#keys.keys()].filter((id) => id !== this.activeId);
  }

  has(id: string): boolean {
    return this.#keys.has(id);
  }

  get(id: string): KeyObject | undefined {
    return this.#keys.get(id);
  }

  toJSON(): { activeId: string; retiredIds: string[] } {
    return { activeId: this.activeId, retiredIds: this.retiredIds };
  }

  toString(): string {
    return `MasterKeyRing(active ${this.activeId}${this.retiredIds.length ? `, retired ${this.retiredIds.join(', ')}` : ''})`;
  }
}

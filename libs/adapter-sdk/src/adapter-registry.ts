import { SUPPORTED_SPECIFICATION_VERSIONS, type ProviderAdapter } from './adapter.js';

export class AdapterLoadError extends Error {}

/** Holds the adapters the gateway can route to. Built-in and plugin adapters register the same way. */
export class AdapterRegistry {
  private readonly adapters = new Map<string, ProviderAdapter>();

  register(adapter: ProviderAdapter): void {
    if (!SUPPORTED_SPECIFICATION_VERSIONS.includes(adapter.specificationVersion)) {
      throw new AdapterLoadError(
        `adapter ${adapter.id} implements contract ${adapter.specificationVersion}; this gateway supports ${SUPPORTED_SPECIFICATION_VERSIONS.join(', ')}`,
      );
    }
    if (this.adapters.has(adapter.id)) throw new AdapterLoadError(`two adapters claim the id ${adapter.id}`);
    this.adapters.set(adapter.id, adapter);
  }

  /** Loads a plugin module by specifier; it must export `adapter` or `adapters`. */
  async load(specifier: string): Promise<void> {
    const mod = (await import(specifier)) as { adapter?: ProviderAdapter; adapters?: ProviderAdapter[] };
    const found = mod.adapters ?? (mod.adapter ? [mod.adapter] : []);
    if (found.length === 0) throw new AdapterLoadError(`${specifier} exports no adapter`);
    for (const a of found) this.register(a);
  }

  get(id: string): ProviderAdapter | undefined {
    return this.adapters.get(id);
  }

  ids(): string[] {
    return [...this.adapters.keys()];
  }
}

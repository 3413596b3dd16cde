import { AdapterRegistry } from '#libs/adapter-sdk';
import type { AppConfig } from '#libs/config';
import * as builtIns from './built-in-adapters.js';

/** The name built-in adapters carry in load errors and logs. */
export const BUILT_IN_ADAPTERS = 'built-in adapters';

export interface LoadAdapterRegistryOptions {
  /** Where relative plugin paths start; the working directory by default. */
  baseDir?: string;
}

/**
 * The adapters this process can use: the built-ins, then every ADAPTER_PLUGINS entry in order,
 * all through AdapterRegistry's loader. Each service that needs adapters (the gateway to call,
 * the vault to accept connections) builds its own with this one function, so both see the same set.
 * @throws AdapterLoadError naming the first plugin that failed and why; the start must stop.
 */
export async function loadAdapterRegistry(config: Pick<AppConfig, 'adapterPlugins'>, options: LoadAdapterRegistryOptions = {}): Promise<AdapterRegistry> {
  const registry = new AdapterRegistry();
  registry.registerModule(BUILT_IN_ADAPTERS, builtIns);
  for (const specifier of config.adapterPlugins) await registry.load(specifier, { baseDir: options.baseDir });
  return registry;
}

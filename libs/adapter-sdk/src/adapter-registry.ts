import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SUPPORTED_SPECIFICATION_VERSIONS, type ProviderAdapter } from './adapter.js';
import type { ProviderAdapterV2 } from './adapter-v2.js';
import { bridgeV1Adapter } from './v1-adapter-bridge.js';

export class AdapterLoadError extends Error {
  override name = 'AdapterLoadError';
  /** The plugin specifier that failed, when the error comes from `load`. */
  readonly specifier: string | undefined;

  constructor(message: string, options: { specifier?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.specifier = options.specifier;
  }
}

export type AnyProviderAdapter = ProviderAdapter | ProviderAdapterV2;

interface Registered {
  /** Only when a v1 adapter was registered under this id: today's handler calls it directly. */
  v1: ProviderAdapter | undefined;
  v2: ProviderAdapterV2;
}

const isFunction = (v: unknown): boolean => typeof v === 'function';
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Why `candidate` is not an adapter this gateway can use, or undefined when it is one. */
export function adapterProblem(candidate: unknown): string | undefined {
  if (!isObject(candidate)) return 'an exported adapter is not an object';
  const version = candidate.specificationVersion;
  if (typeof version !== 'string' || !SUPPORTED_SPECIFICATION_VERSIONS.includes(version)) {
    return `it implements adapter contract ${JSON.stringify(version)}; this gateway supports ${SUPPORTED_SPECIFICATION_VERSIONS.join(', ')}`;
  }
  if (typeof candidate.id !== 'string' || candidate.id.length === 0) return 'an adapter has no id';
  const who = `adapter ${candidate.id}`;
  if (typeof candidate.providerName !== 'string') return `${who} has no providerName`;
  if (!isFunction(candidate.mapError)) return `${who} has no mapError`;
  if (version === 'v1') {
    for (const fn of ['buildChatRequest', 'parseChatResponse', 'parseStreamEvent']) if (!isFunction(candidate[fn])) return `${who} (v1) has no ${fn}`;
    return undefined;
  }
  if (typeof candidate.nativeFormat !== 'string') return `${who} has no nativeFormat`;
  if (!isObject(candidate.settings) || !Array.isArray(candidate.settings.fields)) return `${who} declares no settings schema (settings.fields)`;
  if (!isFunction(candidate.validateSettings)) return `${who} has no validateSettings`;
  const operations = (['chat', 'completion', 'embedding'] as const).filter((op) => candidate[op] !== undefined);
  if (operations.length === 0) return `${who} supports no operation (chat, completion or embedding)`;
  for (const op of operations) {
    const o = candidate[op];
    if (!isObject(o) || !isFunction(o.buildRequest) || !isFunction(o.parseResponse)) return `${who}: ${op} needs buildRequest and parseResponse`;
    if (op !== 'embedding' && !isFunction(o.createStreamDecoder)) return `${who}: ${op} needs createStreamDecoder`;
    if (o.buildNativeRequest !== undefined && !isFunction(o.buildNativeRequest)) return `${who}: ${op}.buildNativeRequest is not a function`;
  }
  return undefined;
}

/**
 * Holds the adapters the gateway can route to. Built-in and plugin adapters register the same way,
 * in either supported contract version. `getV2` serves every adapter through contract v2 (a v1
 * adapter through the bridge); `get` keeps serving v1 adapters to the v1 handler.
 */
export class AdapterRegistry {
  private readonly adapters = new Map<string, Registered>();

  /** Registers one adapter (built in code, not loaded): the same checks as a plugin's. */
  register(adapter: AnyProviderAdapter): void {
    const problem = this.unitProblem([adapter]);
    if (problem) throw new AdapterLoadError(problem);
    this.add([adapter]);
  }

  /**
   * Loads a plugin: a package name, or a path to a module or a package directory (relative to
   * `baseDir`, default the working directory).
   * It must export `adapter`, `adapters` or a default (one adapter or an array). Either all its
   * adapters register or none does.
   * @throws AdapterLoadError naming the specifier and why
   */
  async load(specifier: string, options: { baseDir?: string } = {}): Promise<AnyProviderAdapter[]> {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(importTarget(specifier, options.baseDir ?? process.cwd()))) as Record<string, unknown>;
    } catch (err) {
      throw loadError(specifier, err instanceof Error ? err.message : String(err), err);
    }
    return this.registerModule(specifier, mod);
  }

  /**
   * The part of `load` after the import: registers what an already imported module exports, with the
   * same rules and errors. Built-in adapters come in this way, so they pass the checks a plugin does.
   * One module may export the same id once per contract version (a v1 and a v2): `get` then serves
   * the v1, for the v1 handler, and `getV2` the v2 itself rather than the bridge.
   * @throws AdapterLoadError naming the specifier and why
   */
  registerModule(specifier: string, mod: Readonly<Record<string, unknown>>): AnyProviderAdapter[] {
    const exported = mod.adapters ?? mod.adapter ?? mod.default;
    const found: unknown[] = exported === undefined ? [] : Array.isArray(exported) ? exported : [exported];
    if (found.length === 0) throw loadError(specifier, 'it exports no adapter (expected `adapter`, `adapters` or a default export)');
    const problem = this.unitProblem(found);
    if (problem) throw loadError(specifier, problem);
    this.add(found as AnyProviderAdapter[]);
    return found as AnyProviderAdapter[];
  }

  /** Why these adapters cannot register together, or undefined: each valid, no id taken, at most one per id and version. */
  private unitProblem(candidates: readonly unknown[]): string | undefined {
    const seen = new Set<string>();
    for (const candidate of candidates) {
      const problem = adapterProblem(candidate);
      if (problem) return problem;
      const { id, specificationVersion } = candidate as AnyProviderAdapter;
      if (this.adapters.has(id) || seen.has(`${specificationVersion}:${id}`)) return `the adapter id ${id} is already taken`;
      seen.add(`${specificationVersion}:${id}`);
    }
    return undefined;
  }

  private add(adapters: readonly AnyProviderAdapter[]): void {
    const byId = new Map<string, { v1?: ProviderAdapter; v2?: ProviderAdapterV2 }>();
    for (const a of adapters) {
      const entry = byId.get(a.id) ?? {};
      if (a.specificationVersion === 'v2') entry.v2 = a as ProviderAdapterV2;
      else entry.v1 = a as ProviderAdapter;
      byId.set(a.id, entry);
    }
    for (const [id, { v1, v2 }] of byId) this.adapters.set(id, { v1, v2: v2 ?? bridgeV1Adapter(v1!) });
  }

  /** A v1 adapter, for the v1 handler; undefined for adapters registered as v2. */
  get(id: string): ProviderAdapter | undefined {
    return this.adapters.get(id)?.v1;
  }

  /** Any registered adapter through contract v2. */
  getV2(id: string): ProviderAdapterV2 | undefined {
    return this.adapters.get(id)?.v2;
  }

  /** Every registered id, in registration order (built-ins first). */
  ids(): string[] {
    return [...this.adapters.keys()];
  }
}

function loadError(specifier: string, reason: string, cause?: unknown): AdapterLoadError {
  return new AdapterLoadError(`adapter plugin ${specifier} could not be loaded: ${reason}`, { specifier, cause });
}

/**
 * A path becomes a file URL (import() would resolve it against this file); a path to a package's
 * directory, its entry point; a package name stays as it is, for Node's own resolution.
 */
function importTarget(specifier: string, baseDir: string): string {
  if (specifier.startsWith('file:')) return specifier;
  if (!specifier.startsWith('.') && !path.isAbsolute(specifier)) return specifier;
  const resolved = path.resolve(baseDir, specifier);
  return pathToFileURL(isDirectory(resolved) ? packageEntry(resolved) : resolved).href;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false; // import() names the missing file
  }
}

/** A package directory's entry for import(): exports (".", import or default condition), else main, else index.js. */
function packageEntry(dir: string): string {
  let manifest: { exports?: unknown; main?: unknown } = {};
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as typeof manifest;
  } catch {
    // no readable package.json: index.js, as Node's folder rules
  }
  const pick = (e: unknown): string | undefined => {
    if (typeof e === 'string') return e;
    if (!isObject(e)) return undefined;
    return pick(e['.']) ?? pick(e.import) ?? pick(e.default);
  };
  const entry = pick(manifest.exports) ?? (typeof manifest.main === 'string' ? manifest.main : 'index.js');
  return path.resolve(dir, entry);
}

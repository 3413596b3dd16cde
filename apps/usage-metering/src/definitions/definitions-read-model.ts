import { Injectable, Logger } from '@nestjs/common';
import type { ModelDefinitionView } from '#libs/contracts';
import { Delay } from '../common/delay.js';
import { MatchPatternCache } from '#libs/match-pattern';
import { PriceCatalogue } from '../pricing/price-catalogue.js';
import { RegistryDefinitions } from './registry-definitions.js';

/** Waits between attempts of the first load: 250 ms doubling up to 5 s. */
export function loadBackoffMs(attempt: number): number {
  return Math.min(250 * 2 ** Math.min(attempt - 1, 10), 5000);
}

/** Re-read the definitions this often even without change events, in case one was missed. */
export const SAFETY_REFRESH_MS = 60_000;

/**
 * usage-metering's copy of every organisation's model definitions, as a PriceCatalogue. Loaded at
 * start (retrying until the registry answers: it may start after us), reloaded on each change event
 * and periodically. Listeners hear of every load that changed the definitions, the first included.
 */
@Injectable()
export class DefinitionsReadModel {
  private readonly logger = new Logger(DefinitionsReadModel.name);
  private readonly patterns = new MatchPatternCache();
  private current: PriceCatalogue | null = null;
  private fingerprint: string | null = null;
  private version = 0;
  private inFlight: Promise<void> | null = null;
  private dirty = false;
  private readonly listeners: Array<() => void> = [];
  private readonly stopping = new AbortController();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly registry: RegistryDefinitions,
    private readonly delay: Delay,
  ) {}

  get isLoaded(): boolean {
    return this.current !== null;
  }

  /** The definitions as last loaded. */
  get catalogue(): PriceCatalogue {
    if (!this.current) throw new Error('model definitions are not loaded yet');
    return this.current;
  }

  /** Goes up by one with each load that changed the definitions. */
  get generation(): number {
    return this.version;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Loads, retrying with backoff until the registry answers. False when stopped first. */
  async loadUntilAnswered(): Promise<boolean> {
    for (let attempt = 1; !this.stopping.signal.aborted; attempt++) {
      try {
        await this.reload();
        if (this.stopping.signal.aborted) return false;
        this.timer = setInterval(() => this.reload().catch((e: unknown) => this.logger.warn(`safety refresh failed: ${message(e)}`)), SAFETY_REFRESH_MS);
        this.timer.unref();
        return true;
      } catch (err) {
        const wait = loadBackoffMs(attempt);
        this.logger.warn(`model definitions not loaded yet (${message(err)}); retrying in ${wait} ms`);
        await this.delay.wait(wait, this.stopping.signal);
      }
    }
    return false;
  }

  /**
   * Re-reads the definitions. A call while a read is under way makes that read run once more
   * afterwards (it may have started before the change) and resolves when that is done.
   */
  reload(): Promise<void> {
    if (this.inFlight) {
      this.dirty = true;
      return this.inFlight;
    }
    const run = (async () => {
      try {
        do {
          this.dirty = false;
          await this.loadOnce();
        } while (this.dirty && !this.stopping.signal.aborted);
      } finally {
        this.inFlight = null;
      }
    })();
    this.inFlight = run;
    return run;
  }

  stop(): void {
    this.stopping.abort();
    if (this.timer) clearInterval(this.timer);
  }

  private async loadOnce(): Promise<void> {
    const definitions = await this.registry.fetchAll();
    const fingerprint = fingerprintOf(definitions);
    if (fingerprint === this.fingerprint) return;
    this.current = PriceCatalogue.build(definitions, this.patterns, (d, problem) =>
      this.logger.warn(`model definition ${d.id} (${d.organisationId}) is partly unusable: ${problem}`),
    );
    this.fingerprint = fingerprint;
    this.version++;
    this.logger.log(`loaded ${this.current.definitionCount} model definitions`);
    for (const listener of this.listeners) listener();
  }
}

/**
 * Same definitions, same fingerprint, whatever order the registry lists them in. Only what pricing
 * reads counts: a new lastUsedAt (written by metering itself) or a preview that moved with the clock
 * is no change, or every refresh under traffic would rebuild the catalogue and re-price.
 */
function fingerprintOf(definitions: readonly ModelDefinitionView[]): string {
  const pricing = definitions.map(({ lastUsedAt: _lastUsedAt, preview: _preview, ...rest }) => rest);
  return JSON.stringify(pricing.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

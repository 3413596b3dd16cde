import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { LeaseStore } from './sliced-budgets.js';
import { WINDOW_MS } from './sliced-budgets.js';

/** Windows older than this are deleted (a minute's row is needed only during its minute). */
const KEEP_WINDOWS = 5;

/**
 * The shared side of the per-minute budgets: one row per limit and minute in the gateway's schema,
 * the total leased by every replica, raised in a transaction that never takes it above the limit.
 * Called in the background (a slice at a time), never on a request's path.
 */
@Injectable()
export class RateLimitLeasesRepository implements LeaseStore, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimitLeases');
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly dataSource: DataSource) {
    this.sweeper = setInterval(() => void this.sweep(), WINDOW_MS);
    this.sweeper.unref();
  }

  lease(key: string, window: number, want: number, limit: number): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO rate_limit_windows (limit_key, window_start, leased) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING`, [key, window]);
      const rows = (await manager.query(`SELECT leased FROM rate_limit_windows WHERE limit_key = $1 AND window_start = $2 FOR UPDATE`, [key, window])) as { leased: string }[];
      const leased = Number(rows[0]?.leased ?? 0);
      const got = Math.max(0, Math.min(want, limit - leased));
      if (got > 0) await manager.query(`UPDATE rate_limit_windows SET leased = leased + $3 WHERE limit_key = $1 AND window_start = $2`, [key, window, got]);
      return got;
    });
  }

  private async sweep(): Promise<void> {
    try {
      await this.dataSource.query(`DELETE FROM rate_limit_windows WHERE window_start < $1`, [Math.floor(Date.now() / WINDOW_MS) - KEEP_WINDOWS]);
    } catch (err) {
      this.logger.warn(`old rate-limit windows not deleted: ${String((err as Error)?.message ?? err)}`);
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }
}

import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { PricingOutcome } from '../pricing/usage-pricer.js';
import { INCONSISTENT_USAGE } from '../pricing/usage-pricer.js';
import type { TokenUsage } from '../pricing/token-usage.js';
import { pricingColumns, type NewUsageRecord } from './new-usage-record.js';
import { UsageRecordEntity } from './usage-record.entity.js';

/** What re-pricing needs of an unpriced record. */
export interface UnpricedRecord {
  id: string;
  organisationId: string;
  projectId: string | null;
  model: string;
  startedAt: Date;
  usage: TokenUsage;
  definitionId: string | null;
  priceEffectiveFrom: Date | null;
  unpricedReason: string;
}

const COLUMNS = [
  'id',
  'organisation_id',
  'project_id',
  'key_id',
  'trace_id',
  'span_id',
  'source',
  'model',
  'definition_id',
  'price_effective_from',
  'started_at',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'cost',
  'cost_breakdown',
  'priced',
  'unpriced_reason',
] as const;

/** Rows per INSERT statement: 20 parameters each, well under Postgres' 65535. */
const INSERT_CHUNK = 1000;

/**
 * usage_records. Writes are by the consumer and the re-pricer (the whole table is theirs, across
 * organisations: they act on spans, not for a tenant); tenant-scoped reads are in reports/.
 */
@Injectable()
export class UsageRecordsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Inserts a batch's records in one transaction. A span already recorded (same trace id and span
   * id, e.g. a batch re-sent under a new id) is skipped: a span is priced once. Returns how many
   * rows were new.
   */
  async insertBatch(records: readonly NewUsageRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    return this.dataSource.transaction(async (em) => {
      let inserted = 0;
      for (let i = 0; i < records.length; i += INSERT_CHUNK) inserted += await this.insertChunk(em, records.slice(i, i + INSERT_CHUNK));
      return inserted;
    });
  }

  private async insertChunk(em: EntityManager, records: readonly NewUsageRecord[]): Promise<number> {
    const params: unknown[] = [];
    const rows = records.map((r) => {
      const values = [
        r.id,
        r.organisationId,
        r.projectId,
        r.keyId,
        r.traceId,
        r.spanId,
        r.source,
        r.model,
        r.definitionId,
        r.priceEffectiveFrom?.toISOString() ?? null,
        r.startedAt.toISOString(),
        r.usage.input.toString(),
        r.usage.output.toString(),
        r.usage.cacheRead.toString(),
        r.usage.cacheWrite.toString(),
        r.usage.reasoning.toString(),
        r.cost,
        r.costBreakdown === null ? null : JSON.stringify(r.costBreakdown),
        r.priced,
        r.unpricedReason,
      ];
      const placeholders = values.map((v) => {
        params.push(v);
        return `$${params.length}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    const result: unknown = await em.query(
      `INSERT INTO usage_records (${COLUMNS.join(', ')}) VALUES ${rows.join(', ')}
       ON CONFLICT (trace_id, span_id) DO NOTHING
       RETURNING id`,
      params,
    );
    return Array.isArray(result) ? result.length : 0;
  }

  /**
   * Unpriced records that a definition change might price, in id order after `afterId`. Records
   * with inconsistent usage are left out: no definition can price them.
   */
  async findRepriceable(afterId: string, limit: number): Promise<UnpricedRecord[]> {
    const rows = await this.dataSource
      .getRepository(UsageRecordEntity)
      .createQueryBuilder('r')
      .where('NOT r.priced')
      .andWhere('r.unpriced_reason <> :inconsistent', { inconsistent: INCONSISTENT_USAGE })
      .andWhere('r.id > :afterId', { afterId })
      .orderBy('r.id', 'ASC')
      .limit(limit)
      .getMany();
    return rows.map((r) => ({
      id: r.id,
      organisationId: r.organisationId,
      projectId: r.projectId,
      model: r.model,
      startedAt: r.startedAt,
      usage: {
        input: BigInt(r.inputTokens),
        output: BigInt(r.outputTokens),
        cacheRead: BigInt(r.cacheReadTokens),
        cacheWrite: BigInt(r.cacheWriteTokens),
        reasoning: BigInt(r.reasoningTokens),
      },
      definitionId: r.definitionId,
      priceEffectiveFrom: r.priceEffectiveFrom,
      unpricedReason: r.unpricedReason ?? '',
    }));
  }

  /**
   * Stores new pricing outcomes of unpriced records, in one transaction. Only a record still
   * unpriced is touched, so a record priced meanwhile (by another replica) keeps its first price.
   */
  async updateUnpriced(updates: readonly { id: string; outcome: PricingOutcome }[]): Promise<number> {
    if (updates.length === 0) return 0;
    return this.dataSource.transaction(async (em) => {
      let updated = 0;
      for (const { id, outcome } of updates) {
        const c = pricingColumns(outcome);
        const result: unknown = await em.query(
          `UPDATE usage_records
              SET priced = $2, cost = $3, cost_breakdown = $4, definition_id = $5, price_effective_from = $6, unpriced_reason = $7
            WHERE id = $1 AND NOT priced
          RETURNING id`,
          [id, c.priced, c.cost, c.costBreakdown === null ? null : JSON.stringify(c.costBreakdown), c.definitionId, c.priceEffectiveFrom?.toISOString() ?? null, c.unpricedReason],
        );
        updated += Array.isArray(result) && Array.isArray(result[0]) ? result[0].length : Array.isArray(result) ? result.length : 0;
      }
      return updated;
    });
  }
}

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

/** The columns a new record fills, with their types (as in the migration). */
const COLUMN_TYPES = {
  id: 'text',
  organisation_id: 'text',
  project_id: 'text',
  key_id: 'text',
  trace_id: 'text',
  span_id: 'text',
  source: 'text',
  model: 'text',
  definition_id: 'text',
  price_effective_from: 'timestamptz',
  started_at: 'timestamptz',
  input_tokens: 'bigint',
  output_tokens: 'bigint',
  cache_read_tokens: 'bigint',
  cache_write_tokens: 'bigint',
  reasoning_tokens: 'bigint',
  cost: 'numeric',
  cost_breakdown: 'jsonb',
  priced: 'boolean',
  unpriced_reason: 'text',
} as const;

type Row = Record<keyof typeof COLUMN_TYPES, string | boolean | null | Record<string, string>>;

const COLUMNS = Object.keys(COLUMN_TYPES).join(', ');

/**
 * One short statement for any number of rows: the rows travel as one JSON parameter, so neither
 * side builds or parses a new 10,000-placeholder statement per batch. Numbers and dates are
 * strings in the JSON and go through each column type's own input function, so a cost keeps every
 * digit.
 */
const INSERT_SQL = `INSERT INTO usage_records (${COLUMNS})
  SELECT ${COLUMNS} FROM json_to_recordset($1::json) AS r(${Object.entries(COLUMN_TYPES)
    .map(([name, type]) => `${name} ${type}`)
    .join(', ')})
  ON CONFLICT (trace_id, span_id) DO NOTHING`;

/** Rows per INSERT statement: bounds one statement's JSON. */
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
    const rows = records.map(
      (r): Row => ({
        id: r.id,
        organisation_id: r.organisationId,
        project_id: r.projectId,
        key_id: r.keyId,
        trace_id: r.traceId,
        span_id: r.spanId,
        source: r.source,
        model: r.model,
        definition_id: r.definitionId,
        price_effective_from: r.priceEffectiveFrom?.toISOString() ?? null,
        started_at: r.startedAt.toISOString(),
        input_tokens: r.usage.input.toString(),
        output_tokens: r.usage.output.toString(),
        cache_read_tokens: r.usage.cacheRead.toString(),
        cache_write_tokens: r.usage.cacheWrite.toString(),
        reasoning_tokens: r.usage.reasoning.toString(),
        cost: r.cost,
        cost_breakdown: r.costBreakdown,
        priced: r.priced,
        unpriced_reason: r.unpricedReason,
      }),
    );
    // The row count of the command tag says how many were new: no ids sent back.
    const runner = em.queryRunner;
    if (!runner) throw new Error('insertChunk runs inside a transaction');
    const result = await runner.query(INSERT_SQL, [JSON.stringify(rows)], true);
    return result.affected ?? 0;
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

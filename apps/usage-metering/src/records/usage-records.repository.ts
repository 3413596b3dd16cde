import { Injectable } from '@nestjs/common';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import type { TenantScope } from '#libs/contracts';
import { isUniqueViolation } from '#libs/db';
import type { PricingOutcome } from '../pricing/usage-pricer.js';
import { UNREPRICEABLE_REASONS } from '../pricing/usage-pricer.js';
import type { TokenUsage } from '../pricing/token-usage.js';
import { copyLine } from './copy-text.js';
import { pricingColumns, type NewUsageRecord } from './new-usage-record.js';
import { UsageRecordEntity } from './usage-record.entity.js';

/** What re-pricing needs of an unpriced record. */
export interface UnpricedRecord {
  id: string;
  organisationId: string;
  projectId: string | null;
  keyId: string | null;
  model: string;
  startedAt: Date;
  usage: TokenUsage;
  definitionId: string | null;
  priceEffectiveFrom: Date | null;
  unpricedReason: string;
}

/** The columns a new record fills, in the order copyFields gives them. */
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
  'usage_status',
  'error_type',
  'estimated',
  'provider',
  'connection_id',
  'provider_model',
  'user_id',
  'cache_hit',
].join(', ');

/** A record as COPY text fields, in COLUMNS order: numbers, dates and the cost exactly as strings. */
function copyFields(r: NewUsageRecord): (string | null)[] {
  return [
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
    r.priced ? 't' : 'f',
    r.unpricedReason,
    r.usageStatus,
    r.errorType,
    r.estimated ? 't' : 'f',
    r.provider,
    r.connectionId,
    r.providerModel,
    r.userId,
    r.cacheHit ? 't' : 'f',
  ];
}

/** Rows per write to the COPY stream: bounds the text held at once. */
const COPY_CHUNK = 1000;

/** The scratch table of a batch that met a stored span (temporary: one per transaction). */
const INCOMING = 'usage_records_incoming';

/**
 * usage_records. Writes are by the consumer and the re-pricer (the whole table is theirs, across
 * organisations: they act on spans, not for a tenant); tenant-scoped reads are in reports/.
 */
@Injectable()
export class UsageRecordsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Inserts a batch's records in one transaction and returns the ones that were new. A span
   * already recorded (same organisation, trace id and span id: a batch delivered again, or re-sent under a new
   * id) is skipped, so a span is priced once.
   *
   * The rows go in with COPY, which costs Postgres about half what an INSERT of the same rows does
   * (the largest share of metering's cost per call). COPY cannot skip a conflicting row, so a
   * batch that meets a stored span is rolled back and goes again through a scratch table and
   * INSERT ... ON CONFLICT DO NOTHING; that happens only on redelivery.
   *
   * The COPY runs as a statement of its own (autocommit), not between BEGIN and COMMIT: a single
   * statement is its own transaction, all of it or none, with the rollup trigger inside it. Postgres
   * commits when the statement ends instead of waiting for our COMMIT, so the rollup rows the trigger
   * locked (shared by every batch of an organisation and day) are released without a round trip to
   * this process, which may be busy pricing the next batches meanwhile; the next batch waits for
   * them (measured: batches spent most of their time waiting for those locks, the holder idle in
   * transaction until its COMMIT came).
   */
  async insertBatch(records: readonly NewUsageRecord[]): Promise<readonly NewUsageRecord[]> {
    if (records.length === 0) return [];
    const runner = this.dataSource.createQueryRunner();
    try {
      await copyIn(runner, 'usage_records', records);
      return records;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    } finally {
      await runner.release();
    }
    return this.dataSource.transaction(async (em) => {
      await em.query(`CREATE TEMP TABLE ${INCOMING} (LIKE usage_records INCLUDING DEFAULTS) ON COMMIT DROP`);
      await copyIn(runnerOf(em), INCOMING, records);
      const rows: { id: string }[] = await em.query(`INSERT INTO usage_records SELECT * FROM ${INCOMING} ON CONFLICT (organisation_id, trace_id, span_id) DO NOTHING RETURNING id`);
      const fresh = new Set(rows.map((r) => r.id));
      return records.filter((r) => fresh.has(r.id));
    });
  }

  /**
   * Unpriced records that a definition change might price, in id order after `afterId`. Records
   * with inconsistent or missing usage are left out: no definition can price them (a missing one
   * priced would cost $0).
   */
  async findRepriceable(afterId: string, limit: number, scope?: TenantScope): Promise<UnpricedRecord[]> {
    const query = this.dataSource.getRepository(UsageRecordEntity).createQueryBuilder('r').where('NOT r.priced');
    // An admin's re-price acts on their own records only (the background one on all of them).
    if (scope) query.andWhere('r.organisation_id = :organisationId', { organisationId: scope.organisationId });
    if (scope?.projectId) query.andWhere('r.project_id = :projectId', { projectId: scope.projectId });
    const rows = await query
      .andWhere('r.unpriced_reason NOT IN (:...unrepriceable)', { unrepriceable: UNREPRICEABLE_REASONS })
      .andWhere(`r.usage_status <> 'missing'`)
      .andWhere('r.id > :afterId', { afterId })
      .orderBy('r.id', 'ASC')
      .limit(limit)
      .getMany();
    return rows.map((r) => ({
      id: r.id,
      organisationId: r.organisationId,
      projectId: r.projectId,
      keyId: r.keyId,
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
   * unpriced is touched, so a record priced meanwhile (by another replica) keeps its first price;
   * never a usage-missing record (its zero token counts are not usage).
   */
  async updateUnpriced(updates: readonly { id: string; outcome: PricingOutcome }[]): Promise<number> {
    return (await this.updateUnpricedIds(updates)).length;
  }

  /** updateUnpriced, answering the ids of the records it did change. */
  async updateUnpricedIds(updates: readonly { id: string; outcome: PricingOutcome }[]): Promise<string[]> {
    if (updates.length === 0) return [];
    return this.dataSource.transaction(async (em) => {
      const updated: string[] = [];
      for (const { id, outcome } of updates) {
        const c = pricingColumns(outcome);
        const result: unknown = await em.query(
          `UPDATE usage_records
              SET priced = $2, cost = $3, cost_breakdown = $4, definition_id = $5, price_effective_from = $6, unpriced_reason = $7
            WHERE id = $1 AND NOT priced AND usage_status <> 'missing'
          RETURNING id`,
          [id, c.priced, c.cost, c.costBreakdown === null ? null : JSON.stringify(c.costBreakdown), c.definitionId, c.priceEffectiveFrom?.toISOString() ?? null, c.unpricedReason],
        );
        const rows: unknown[] = Array.isArray(result) && Array.isArray(result[0]) ? result[0] : Array.isArray(result) ? result : [];
        if (rows.length > 0) updated.push(id);
      }
      return updated;
    });
  }
}

function runnerOf(em: EntityManager): QueryRunner {
  const runner = em.queryRunner;
  if (!runner) throw new Error('usage records are written inside a transaction');
  return runner;
}

/** COPY the records into `table` on the runner's connection (in its transaction, if it has one); resolves to the rows copied. */
async function copyIn(runner: QueryRunner, table: string, records: readonly NewUsageRecord[]): Promise<number> {
  const client = (await runner.connect()) as pg.PoolClient;
  const copy = client.query(copyFrom(`COPY ${table} (${COLUMNS}) FROM STDIN`));
  const done = finished(copy);
  done.catch(() => undefined); // awaited below; an error while writing must not count as unhandled meanwhile
  try {
    for (let i = 0; i < records.length; i += COPY_CHUNK) {
      let text = '';
      const end = Math.min(records.length, i + COPY_CHUNK);
      for (let j = i; j < end; j++) text += copyLine(copyFields(records[j]!));
      if (!copy.write(text)) await once(copy, 'drain');
    }
    copy.end();
  } catch (err) {
    // Ends the COPY (CopyFail) so the connection can roll the transaction back.
    copy.destroy(err as Error);
    await done.catch(() => undefined);
    throw err;
  }
  await done;
  return copy.rowCount;
}

import { Injectable } from '@nestjs/common';
import type { LastUsedBatch } from '#libs/contracts';
import { DataSource } from 'typeorm';

/**
 * Writes metering's "last used" times: one transaction per batch, one statement per table, each
 * moving a time only forward (a late batch never moves it back).
 */
@Injectable()
export class LastUsedRepository {
  /** Transactions written so far (tests count them: one per batch). */
  writes = 0;

  constructor(private readonly dataSource: DataSource) {}

  async record(batch: LastUsedBatch): Promise<{ definitions: number; providerModels: number }> {
    this.writes++;
    return this.dataSource.transaction(async (tx) => {
      let definitions = 0;
      let providerModels = 0;
      if (batch.definitions.length > 0) {
        const [, affected] = (await tx.query(
          `UPDATE model_definitions d SET last_used_at = v.at
             FROM unnest($1::text[], $2::timestamptz[]) AS v(id, at)
            WHERE d.id = v.id AND (d.last_used_at IS NULL OR d.last_used_at < v.at)`,
          [batch.definitions.map((d) => d.id), batch.definitions.map((d) => d.at)],
        )) as [unknown, number];
        definitions = affected;
      }
      if (batch.providerModels.length > 0) {
        const [, affected] = (await tx.query(
          `UPDATE provider_models p SET last_used_at = v.at
             FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS v(organisation_id, name, at)
            WHERE p.organisation_id = v.organisation_id AND p.name = v.name AND (p.last_used_at IS NULL OR p.last_used_at < v.at)`,
          [batch.providerModels.map((m) => m.organisationId), batch.providerModels.map((m) => m.name), batch.providerModels.map((m) => m.at)],
        )) as [unknown, number];
        providerModels = affected;
      }
      return { definitions, providerModels };
    });
  }

  /** The last-used time of provider models by id, for their views. */
  async providerModelTimes(ids: readonly string[]): Promise<Map<string, Date | null>> {
    if (ids.length === 0) return new Map();
    const rows = (await this.dataSource.query(`SELECT id, last_used_at FROM provider_models WHERE id = ANY($1::text[])`, [ids])) as { id: string; last_used_at: Date | null }[];
    return new Map(rows.map((r) => [r.id, r.last_used_at]));
  }
}

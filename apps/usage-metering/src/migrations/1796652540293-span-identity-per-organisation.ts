import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 17 items 2-3. A span is priced once per (organisation, trace id, span id): with OTLP intake
 * two tenants may send the same ids (a replayed fixture, a shared test suite), and the first one's
 * record must not swallow the second's. And a record says when its usage was estimated from the
 * call's text (a span without token counts, a stream left early) rather than reported.
 */
export class SpanIdentityPerOrganisation1796652540293 implements MigrationInterface {
  name = 'SpanIdentityPerOrganisation1796652540293';

  async up(q: QueryRunner): Promise<void> {
    // The new key is built first, then swapped in: no moment without a uniqueness guarantee.
    await q.query(`CREATE UNIQUE INDEX usage_records_org_trace_span ON usage_records (organisation_id, trace_id, span_id)`);
    await q.query(`ALTER TABLE usage_records DROP CONSTRAINT usage_records_trace_span`);
    await q.query(`ALTER TABLE usage_records ADD CONSTRAINT usage_records_org_trace_span UNIQUE USING INDEX usage_records_org_trace_span`);
    // Every record so far was reported; the default is dropped so every writer says it.
    await q.query(`ALTER TABLE usage_records ADD COLUMN estimated boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE usage_records ALTER COLUMN estimated DROP DEFAULT`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records DROP COLUMN estimated`);
    await q.query(`ALTER TABLE usage_records DROP CONSTRAINT usage_records_org_trace_span`);
    await q.query(`ALTER TABLE usage_records ADD CONSTRAINT usage_records_trace_span UNIQUE (trace_id, span_id)`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Priced usage: one row per LLM-call span, identified by trace id + span id. */
export class MeteringInitial1732370000000 implements MigrationInterface {
  name = 'MeteringInitial1732370000000';

  async up(q: QueryRunner): Promise<void> {
    // cost is numeric without a scale, so every digit the prices give is kept (DESIGN.md, data rules).
    await q.query(`
      CREATE TABLE usage_records (
        id text PRIMARY KEY,
        organisation_id text NOT NULL,
        project_id text,
        key_id text,
        trace_id text NOT NULL,
        span_id text NOT NULL,
        source text NOT NULL,
        model text NOT NULL,
        definition_id text,
        price_effective_from timestamptz,
        started_at timestamptz NOT NULL,
        input_tokens bigint NOT NULL CHECK (input_tokens >= 0),
        output_tokens bigint NOT NULL CHECK (output_tokens >= 0),
        cache_read_tokens bigint NOT NULL CHECK (cache_read_tokens >= 0),
        cache_write_tokens bigint NOT NULL CHECK (cache_write_tokens >= 0),
        reasoning_tokens bigint NOT NULL CHECK (reasoning_tokens >= 0),
        cost numeric CHECK (cost >= 0),
        cost_breakdown jsonb,
        priced boolean NOT NULL,
        unpriced_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT usage_records_trace_span UNIQUE (trace_id, span_id),
        -- a priced record has a cost and no reason; an unpriced one a reason and no cost (never $0)
        CONSTRAINT usage_records_priced_or_reason CHECK (
          (priced AND cost IS NOT NULL AND unpriced_reason IS NULL) OR
          (NOT priced AND cost IS NULL AND cost_breakdown IS NULL AND unpriced_reason IS NOT NULL)
        )
      )`);
    // Cost reports: one organisation, a time window.
    await q.query(`CREATE INDEX usage_records_org_started ON usage_records (organisation_id, started_at)`);
    // Re-pricing after a definition change walks the unpriced records only.
    await q.query(`CREATE INDEX usage_records_unpriced ON usage_records (id) WHERE NOT priced`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE usage_records`);
  }
}

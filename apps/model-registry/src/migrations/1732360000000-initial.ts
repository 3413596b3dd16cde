import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Timestamps are timestamptz(3): millisecond precision, exactly what a JavaScript Date holds, so
 * the (created_at, id) list cursor and price effective dates round-trip without loss.
 * Prices are numeric with no fixed scale: a price keeps every digit it was given.
 */
export class Initial1732360000000 implements MigrationInterface {
  name = 'Initial1732360000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE provider_models (
        id text PRIMARY KEY,
        organisation_id text NOT NULL,
        project_id text,
        name text NOT NULL,
        connection_id text NOT NULL,
        upstream_model text NOT NULL,
        max_input_tokens integer CHECK (max_input_tokens > 0),
        max_output_tokens integer CHECK (max_output_tokens > 0),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX provider_models_org_name ON provider_models (organisation_id, name)`);
    await q.query(`CREATE INDEX provider_models_org_created ON provider_models (organisation_id, created_at, id)`);

    await q.query(`
      CREATE TABLE model_definitions (
        id text PRIMARY KEY,
        organisation_id text NOT NULL,
        project_id text,
        name text NOT NULL,
        match_pattern text NOT NULL,
        tokenizer text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX model_definitions_org_name ON model_definitions (organisation_id, name)`);
    await q.query(`CREATE INDEX model_definitions_org_created ON model_definitions (organisation_id, created_at, id)`);

    await q.query(`
      CREATE TABLE model_prices (
        definition_id text NOT NULL REFERENCES model_definitions (id) ON DELETE CASCADE,
        effective_from timestamptz(3) NOT NULL,
        usage_type text NOT NULL,
        price numeric NOT NULL CHECK (price >= 0),
        PRIMARY KEY (definition_id, effective_from, usage_type)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE model_prices`);
    await q.query(`DROP TABLE model_definitions`);
    await q.query(`DROP TABLE provider_models`);
  }
}

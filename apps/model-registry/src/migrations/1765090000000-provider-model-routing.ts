import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 14: a provider model gets targets (one or more connection + upstream model, weighted),
 * fallbacks, kind, status, flags, per-minute limits and default parameters; name rewrite rules
 * arrive. An existing row becomes a one-target, active chat model with its own connection and
 * upstream model as the target, so every name that routed before routes the same way after.
 */
export class ProviderModelRouting1765090000000 implements MigrationInterface {
  name = 'ProviderModelRouting1765090000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE provider_models
        ADD COLUMN display_name text,
        ADD COLUMN kind text NOT NULL DEFAULT 'chat' CHECK (kind IN ('chat', 'completion', 'embedding')),
        ADD COLUMN targets jsonb,
        ADD COLUMN fallbacks text[] NOT NULL DEFAULT '{}',
        ADD COLUMN failover_by_default boolean NOT NULL DEFAULT false,
        ADD COLUMN upstream_streams boolean NOT NULL DEFAULT true,
        ADD COLUMN multimodal boolean NOT NULL DEFAULT false,
        ADD COLUMN stages text[] NOT NULL DEFAULT '{}',
        ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
        ADD COLUMN context_window integer CHECK (context_window > 0),
        ADD COLUMN requests_per_minute integer CHECK (requests_per_minute > 0),
        ADD COLUMN tokens_per_minute integer CHECK (tokens_per_minute > 0),
        ADD COLUMN default_parameters jsonb NOT NULL DEFAULT '{}'`);
    await q.query(`UPDATE provider_models SET targets = jsonb_build_array(jsonb_build_object('connectionId', connection_id, 'upstreamModel', upstream_model, 'weight', 1))`);
    await q.query(`ALTER TABLE provider_models ALTER COLUMN targets SET NOT NULL, ADD CONSTRAINT provider_models_targets_not_empty CHECK (jsonb_typeof(targets) = 'array' AND jsonb_array_length(targets) > 0)`);
    await q.query(`ALTER TABLE provider_models DROP COLUMN connection_id, DROP COLUMN upstream_model`);
    await q.query(`
      CREATE TABLE model_rewrite_rules (
        id text PRIMARY KEY,
        organisation_id text NOT NULL,
        project_id text,
        pattern text NOT NULL,
        target text NOT NULL,
        position integer NOT NULL CHECK (position >= 0),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX model_rewrite_rules_org_created ON model_rewrite_rules (organisation_id, created_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE model_rewrite_rules`);
    await q.query(`ALTER TABLE provider_models ADD COLUMN connection_id text, ADD COLUMN upstream_model text`);
    await q.query(`UPDATE provider_models SET connection_id = targets->0->>'connectionId', upstream_model = targets->0->>'upstreamModel'`);
    await q.query(`ALTER TABLE provider_models ALTER COLUMN connection_id SET NOT NULL, ALTER COLUMN upstream_model SET NOT NULL`);
    await q.query(`
      ALTER TABLE provider_models
        DROP CONSTRAINT provider_models_targets_not_empty,
        DROP COLUMN display_name, DROP COLUMN kind, DROP COLUMN targets, DROP COLUMN fallbacks,
        DROP COLUMN failover_by_default, DROP COLUMN upstream_streams, DROP COLUMN multimodal, DROP COLUMN stages,
        DROP COLUMN status, DROP COLUMN context_window, DROP COLUMN requests_per_minute, DROP COLUMN tokens_per_minute,
        DROP COLUMN default_parameters`);
  }
}

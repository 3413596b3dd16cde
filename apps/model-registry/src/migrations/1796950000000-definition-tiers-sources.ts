import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 14 items 4, 6, 7: pricing tiers per price version (model_price_tiers; every existing
 * version becomes one default tier), the source of a definition (user, or system for the built-in
 * catalogue, keyed by catalogue_key), an explicit priority for the winner rule, and "last used"
 * times kept from metering for definitions and provider models.
 */
export class DefinitionTiersSources1796950000000 implements MigrationInterface {
  name = 'DefinitionTiersSources1796950000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE model_definitions ADD COLUMN source text NOT NULL DEFAULT 'user' CHECK (source IN ('user', 'system'))`);
    await q.query(`ALTER TABLE model_definitions ADD COLUMN priority integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE model_definitions ADD COLUMN catalogue_key text`);
    await q.query(`ALTER TABLE model_definitions ADD COLUMN last_used_at timestamptz(3)`);
    await q.query(`CREATE UNIQUE INDEX model_definitions_catalogue_key ON model_definitions (catalogue_key) WHERE catalogue_key IS NOT NULL`);

    await q.query(`
      CREATE TABLE model_price_tiers (
        definition_id text NOT NULL REFERENCES model_definitions (id) ON DELETE CASCADE,
        effective_from timestamptz(3) NOT NULL,
        name text NOT NULL,
        is_default boolean NOT NULL,
        priority integer NOT NULL,
        conditions jsonb NOT NULL DEFAULT '[]',
        PRIMARY KEY (definition_id, effective_from, name)
      )`);
    await q.query(`CREATE UNIQUE INDEX model_price_tiers_one_default ON model_price_tiers (definition_id, effective_from) WHERE is_default`);
    await q.query(`INSERT INTO model_price_tiers (definition_id, effective_from, name, is_default, priority) SELECT DISTINCT definition_id, effective_from, 'default', true, 0 FROM model_prices`);

    await q.query(`ALTER TABLE model_prices ADD COLUMN tier text NOT NULL DEFAULT 'default'`);
    await q.query(`ALTER TABLE model_prices DROP CONSTRAINT model_prices_pkey`);
    await q.query(`ALTER TABLE model_prices ADD PRIMARY KEY (definition_id, effective_from, tier, usage_type)`);
    await q.query(`ALTER TABLE model_prices ALTER COLUMN tier DROP DEFAULT`);
    await q.query(
      `ALTER TABLE model_prices ADD CONSTRAINT model_prices_tier_fk FOREIGN KEY (definition_id, effective_from, tier) REFERENCES model_price_tiers (definition_id, effective_from, name) ON DELETE CASCADE`,
    );

    await q.query(`ALTER TABLE provider_models ADD COLUMN last_used_at timestamptz(3)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE provider_models DROP COLUMN last_used_at`);
    await q.query(`ALTER TABLE model_prices DROP CONSTRAINT model_prices_tier_fk`);
    await q.query(`DELETE FROM model_prices WHERE tier <> 'default'`);
    await q.query(`ALTER TABLE model_prices DROP CONSTRAINT model_prices_pkey`);
    await q.query(`ALTER TABLE model_prices DROP COLUMN tier`);
    await q.query(`ALTER TABLE model_prices ADD PRIMARY KEY (definition_id, effective_from, usage_type)`);
    await q.query(`DROP TABLE model_price_tiers`);
    await q.query(`DROP INDEX model_definitions_catalogue_key`);
    await q.query(`ALTER TABLE model_definitions DROP COLUMN last_used_at, DROP COLUMN catalogue_key, DROP COLUMN priority, DROP COLUMN source`);
  }
}

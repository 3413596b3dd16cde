import { Logger } from '@nestjs/common';
import pg from 'pg';
import { DataSource, type MixedList, type EntitySchema } from 'typeorm';

export interface ServiceDatabaseOptions {
  url: string;
  /** The service's own Postgres schema. */
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  poolSize?: number;
}

// numeric and bigint come back as strings: money and token counts must not pass through a float.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => v);

/** Postgres refused a row because a unique index already holds its key (SQLSTATE 23505), as pg or TypeORM reports it. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  return e?.code === '23505' || e?.driverError?.code === '23505';
}

/**
 * Opens a service's DataSource on its own schema and brings the schema up to date with its
 * migrations (never synchronize). The schema is created first so the migrations table can live in it.
 */
export async function openServiceDatabase(options: ServiceDatabaseOptions): Promise<DataSource> {
  const logger = new Logger(`Database:${options.schema}`);
  const bootstrap = new pg.Client({ connectionString: options.url });
  await bootstrap.connect();
  try {
    await bootstrap.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
  } catch (err) {
    // Two processes creating the same schema at once: the loser sees a unique violation; the schema exists.
    if (!isUniqueViolation(err)) throw err;
  } finally {
    await bootstrap.end();
  }
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error'],
    extra: { max: options.poolSize ?? 10, options: `-c search_path="${options.schema}"` },
  });
  await dataSource.initialize();
  const ran = await dataSource.runMigrations();
  if (ran.length > 0) logger.log(`applied migrations: ${ran.map((m) => m.name).join(', ')}`);
  return dataSource;
}

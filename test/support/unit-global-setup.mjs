// Medium tests need a real Postgres. With TEST_DATABASE_URL set (CI's distributed run) they use
// that server; otherwise one embedded Postgres is started for the whole run, as on a fresh machine.
// Jest loads global setup outside its module mapper, so this uses the built product (npm test builds first).
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Logger } from '@nestjs/common';
import { EmbeddedPostgresServer } from '../../dist/libs/db/src/index.js';

export default async function unitGlobalSetup() {
  if (process.env.TEST_DATABASE_URL) return;
  Logger.overrideLogger(['error', 'warn']);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gw-unit-pg-'));
  const server = new EmbeddedPostgresServer({ dataDir, port: 0 });
  process.env.TEST_DATABASE_URL = (await server.start()).replace(/\/gateway$/, '/postgres');
  globalThis.__embeddedPg = { server, dataDir };
}

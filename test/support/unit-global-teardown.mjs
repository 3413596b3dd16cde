import { rm } from 'node:fs/promises';

export default async function unitGlobalTeardown() {
  const embedded = globalThis.__embeddedPg;
  if (!embedded) return;
  await embedded.server.stop();
  await rm(embedded.dataDir, { recursive: true, force: true });
}

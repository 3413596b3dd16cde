import { Logger } from '@nestjs/common';
import { ANONYMOUS_ACTOR, type AuditEntry } from './audit-entry.js';
import { DetachedAuditWriter } from './detached-audit-writer.js';

const ENTRY: AuditEntry = {
  organisationId: null,
  projectId: null,
  actor: ANONYMOUS_ACTOR,
  actorProjectId: null,
  action: 'connection.revealed',
  targetId: 'conn_1',
  outcome: 'denied',
  reason: 'invalid or revoked key',
};

function quietLogger(): Logger & { errors: string[] } {
  const logger = new Logger('test') as Logger & { errors: string[] };
  logger.errors = [];
  logger.error = (message: unknown) => void logger.errors.push(String(message));
  return logger;
}

describe('DetachedAuditWriter', () => {
  it('returns before the write has finished, and the entry is written after', async () => {
    let release!: () => void;
    const written: AuditEntry[] = [];
    const writer = new DetachedAuditWriter(
      (e) => new Promise<void>((resolve) => (release = () => (written.push(e), resolve()))),
      quietLogger(),
      [],
    );
    writer.record(ENTRY);
    expect(written).toEqual([]);
    release();
    await writer.drain();
    expect(written).toEqual([ENTRY]);
  });

  it('retries a failing write until it succeeds', async () => {
    let calls = 0;
    const logger = quietLogger();
    const writer = new DetachedAuditWriter(
      async () => {
        if (++calls < 3) throw new Error('connection reset');
      },
      logger,
      [1, 1, 1],
    );
    writer.record(ENTRY);
    await writer.drain();
    expect(calls).toBe(3);
    expect(writer.lost).toBe(0);
    expect(logger.errors).toEqual([]);
  });

  it('logs the whole entry and counts it when every attempt fails, so it is not lost silently', async () => {
    const logger = quietLogger();
    const writer = new DetachedAuditWriter(
      async () => {
        throw new Error('database down');
      },
      logger,
      [1, 1],
    );
    writer.record(ENTRY);
    await writer.drain();
    expect(writer.lost).toBe(1);
    expect(logger.errors).toHaveLength(1);
    expect(logger.errors[0]).toContain('after 3 attempts');
    expect(logger.errors[0]).toContain(JSON.stringify(ENTRY));
  });
});

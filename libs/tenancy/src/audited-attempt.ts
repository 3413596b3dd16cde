import { AppError, ErrorCode, type CommandEnvelope } from '#libs/contracts';
import type { AuditEntry } from './audit-entry.js';
import { AccessDenied } from './ownership.js';

/** The audit entry of an attempt by a command's actor, before its outcome is known. */
export function attemptOf<A extends string>(
  command: Pick<CommandEnvelope<unknown>, 'scope' | 'actor'>,
  action: A,
  targetId: string | null,
  projectId: string | null,
): AuditEntry<A> & { organisationId: string } {
  return {
    organisationId: command.scope.organisationId,
    projectId,
    actor: { keyId: command.actor.keyId, name: command.actor.name },
    actorProjectId: command.scope.projectId,
    action,
    targetId,
    outcome: 'succeeded',
    reason: null,
  };
}

/**
 * A refusal answered as something else (not_found), so that a row outside the caller's reach
 * does not leak its existence; the audit log still records it as denied.
 */
export class HiddenRefusal extends Error {
  constructor(
    message: string,
    readonly answer: AppError,
  ) {
    super(message);
  }
}

/** Refusals by the ownership rule are `denied`; anything else that stopped the attempt `failed`, with no internal detail. */
export function outcomeOf(err: unknown): Pick<AuditEntry, 'outcome' | 'reason'> {
  if (err instanceof HiddenRefusal || err instanceof AccessDenied) return { outcome: 'denied', reason: err.message };
  if (err instanceof AppError && err.code !== ErrorCode.Internal) return { outcome: 'failed', reason: `${err.code}: ${err.message}` };
  return { outcome: 'failed', reason: ErrorCode.Internal };
}

/**
 * Runs an attempt; when it is refused or fails, hands its entry to `audit.recordAttempt` (which
 * writes it off the answer's path) and lets the error through, a HiddenRefusal as its answer.
 * Successes write their own entry, in their own transaction.
 */
export async function audited<T, E extends AuditEntry>(audit: { recordAttempt(entry: E): void }, attempt: E, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    audit.recordAttempt({ ...attempt, ...outcomeOf(err) });
    throw err instanceof HiddenRefusal ? err.answer : err;
  }
}

import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { AppError, type CommandEnvelope, type FieldError, type TenantScope } from '#libs/contracts';

/**
 * Bus handlers check what arrives before a service sees it. The gateway validates the same DTOs,
 * but the bus has other clients, and an undefined id or organisation in a TypeORM `where` would
 * silently match every row.
 */
export function checkedEnvelope(payload: unknown): CommandEnvelope<unknown> {
  const envelope = payload as Partial<CommandEnvelope<unknown>> | null | undefined;
  const scope = envelope?.scope as Partial<TenantScope> | undefined;
  const problems: FieldError[] = [];
  if (typeof scope?.organisationId !== 'string' || scope.organisationId === '') {
    problems.push({ field: 'scope.organisationId', messages: ['scope.organisationId must be a non-empty string'] });
  }
  if (scope?.projectId !== null && (typeof scope?.projectId !== 'string' || scope.projectId === '')) {
    problems.push({ field: 'scope.projectId', messages: ['scope.projectId must be null or a non-empty string'] });
  }
  if (typeof envelope?.actor?.keyId !== 'string') {
    problems.push({ field: 'actor.keyId', messages: ['actor.keyId must be a string'] });
  }
  if (problems.length > 0) throw AppError.validation(problems);
  return envelope as CommandEnvelope<unknown>;
}

/** Validates a command's input against its DTO class (the same class-validator rules the gateway applies). */
export async function validInput<T extends object>(dto: new () => T, input: unknown): Promise<T> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw AppError.validation([{ field: 'input', messages: ['input must be an object'] }]);
  }
  const instance = plainToInstance(dto, input);
  const errors = await validate(instance, { forbidUnknownValues: true, whitelist: true });
  if (errors.length > 0) {
    throw AppError.validation(fieldErrors(errors));
  }
  return instance;
}

/** The id of a get or delete command. */
export function idOf(input: unknown): string {
  const id = (input as { id?: unknown } | null | undefined)?.id;
  if (typeof id !== 'string' || id.length === 0 || id.length > 64) {
    throw AppError.validation([{ field: 'id', messages: ['id must be a string of 1-64 characters'] }]);
  }
  return id;
}

/** One entry per bad field, nested ones by their path (`targets.0.weight`). */
function fieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    const nested = fieldErrors(e.children ?? [], field);
    return own.length === 0 && nested.length === 0 ? [{ field, messages: [`${field} is invalid`] }] : [...own, ...nested];
  });
}

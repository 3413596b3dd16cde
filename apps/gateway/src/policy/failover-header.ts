/** The request header that turns failover on or off for one call, or names the models to fail over to. */
export const FAILOVER_HEADER = 'x-gateway-failover';

/** What a request asked of failover: the model's own setting, on, off, or these models in this order. */
export type FailoverRequest = { kind: 'default' } | { kind: 'on' } | { kind: 'off' } | { kind: 'models'; models: string[] } | { kind: 'invalid'; message: string };

const DEFAULT: FailoverRequest = { kind: 'default' };
const ON: FailoverRequest = { kind: 'on' };
const OFF: FailoverRequest = { kind: 'off' };

/** At most this many models in the header (each is a full call when the ones before it fail). */
export const MAX_FAILOVER_MODELS = 10;

/**
 * Reads `x-gateway-failover`: `on` (the model's targets, then its fallbacks), `off` (one target,
 * whatever the model says), or a comma-separated list of model names (failover on, to these instead
 * of the model's fallbacks). Absent: the model's failoverByDefault.
 */
export function parseFailoverHeader(value: string | string[] | undefined): FailoverRequest {
  if (value === undefined) return DEFAULT;
  const text = (Array.isArray(value) ? value.join(',') : value).trim();
  const lower = text.toLowerCase();
  if (lower === 'on') return ON;
  if (lower === 'off') return OFF;
  const models = text
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
  if (models.length === 0) return { kind: 'invalid', message: `${FAILOVER_HEADER} must be on, off or a comma-separated list of model names.` };
  if (models.length > MAX_FAILOVER_MODELS) return { kind: 'invalid', message: `${FAILOVER_HEADER} names ${models.length} models; at most ${MAX_FAILOVER_MODELS} are allowed.` };
  return { kind: 'models', models };
}

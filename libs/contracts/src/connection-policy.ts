import type { FieldError } from './errors.js';

/**
 * How the gateway treats one connection's upstream (issue 15): timeouts, retries and its circuit
 * breaker. Given as settings of any connection, whatever its adapter (`settings.maxRetries`...),
 * stored with its plain settings; a setting left out takes the gateway's default.
 */
export interface ConnectionPolicy {
  /** Opening a socket (TCP and TLS), after DNS. */
  connectTimeoutMs: number;
  /** From the request sent to the answer's status and headers (the first byte of a stream). */
  firstByteTimeoutMs: number;
  /** The whole call, streams included: from the request sent to the answer's last byte. */
  totalTimeoutMs: number;
  /** Retries of a retryable failure on the same target (0 = none), before any failover. */
  maxRetries: number;
  /** The first retry's delay; each next one doubles it, with jitter. A longer retry-after wins. */
  retryDelayMs: number;
  /** Consecutive failures (5xx, timeouts, unreachable) of one target that open its circuit (0 = no breaker). */
  circuitFailureThreshold: number;
  /** How long an open circuit stays open before one probe call may go through. */
  circuitHalfOpenAfterMs: number;
}

interface PolicySetting {
  min: number;
  max: number;
  description: string;
}

/** The settings every connection accepts, with their bounds (integers). */
export const CONNECTION_POLICY_SETTINGS: Readonly<Record<keyof ConnectionPolicy, PolicySetting>> = {
  connectTimeoutMs: { min: 100, max: 600_000, description: 'Opening a socket to the upstream (default 10000).' },
  firstByteTimeoutMs: { min: 100, max: 3_600_000, description: "Waiting for the upstream's status and headers (default UPSTREAM_TIMEOUT_MS, 600000)." },
  totalTimeoutMs: { min: 100, max: 3_600_000, description: 'The whole call, streams included (default UPSTREAM_TIMEOUT_MS, 600000).' },
  maxRetries: { min: 0, max: 10, description: 'Retries of a retryable failure (connect error, timeout, 408, 429, 5xx, overloaded) on the same target (default 0).' },
  retryDelayMs: { min: 1, max: 30_000, description: "First retry delay, doubled per retry (each delay random between half and all of it), at most 30000; the provider's retry-after wins when longer (default 500)." },
  circuitFailureThreshold: { min: 0, max: 1000, description: 'Consecutive failures of a target that open its circuit; 0 turns the breaker off (default 5).' },
  circuitHalfOpenAfterMs: { min: 100, max: 3_600_000, description: 'How long an open circuit waits before one probe call (default 30000).' },
};

export const CONNECTION_POLICY_NAMES = Object.keys(CONNECTION_POLICY_SETTINGS) as readonly (keyof ConnectionPolicy)[];

const POLICY_NAME_SET: ReadonlySet<string> = new Set(CONNECTION_POLICY_NAMES);

export function isConnectionPolicySetting(name: string): name is keyof ConnectionPolicy {
  return POLICY_NAME_SET.has(name);
}

/**
 * Takes the policy settings out of a connection's settings (the adapter never sees them) and checks
 * them: every error names `settings.<name>`. Null or absent = the gateway's default (not stored).
 */
export function splitConnectionPolicy(settings: Readonly<Record<string, unknown>> | undefined): {
  policy: Partial<ConnectionPolicy>;
  adapterSettings: Record<string, unknown>;
  errors: FieldError[];
} {
  const policy: Partial<ConnectionPolicy> = {};
  const adapterSettings: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const [name, value] of Object.entries(settings ?? {})) {
    if (!isConnectionPolicySetting(name)) {
      adapterSettings[name] = value;
      continue;
    }
    if (value === null || value === undefined) continue;
    const bounds = CONNECTION_POLICY_SETTINGS[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < bounds.min || value > bounds.max) {
      errors.push({ field: `settings.${name}`, messages: [`must be an integer from ${bounds.min} to ${bounds.max}`] });
      continue;
    }
    policy[name] = value;
  }
  return { policy, adapterSettings, errors };
}

/** A connection's policy: its own settings over the defaults. */
export function connectionPolicy(settings: Readonly<Record<string, unknown>> | undefined, defaults: Readonly<ConnectionPolicy>): ConnectionPolicy {
  const out: ConnectionPolicy = { ...defaults };
  if (!settings) return out;
  for (const name of CONNECTION_POLICY_NAMES) {
    const v = settings[name];
    if (typeof v === 'number' && Number.isInteger(v)) out[name] = v;
  }
  return out;
}

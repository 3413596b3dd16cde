/**
 * The generation parameters a provider model may default (its `defaultParameters`) and a client may
 * set in the model name (`name:temperature=0.2,top_p=0.9`, 002's URI model parameters). One table,
 * read by the registry's validation and the gateway's name parsing, so both refuse the same values.
 * Names are OpenAI's; the gateway writes each into the field of the client's format (Anthropic's
 * `stop_sequences` for `stop`).
 */
export const MODEL_PARAMETER_RULES = {
  temperature: { kind: 'number', min: 0, max: 2 },
  top_p: { kind: 'number', min: 0, max: 1 },
  top_k: { kind: 'integer', min: 1, max: 1_000_000 },
  max_tokens: { kind: 'integer', min: 1, max: 100_000_000 },
  presence_penalty: { kind: 'number', min: -2, max: 2 },
  frequency_penalty: { kind: 'number', min: -2, max: 2 },
  seed: { kind: 'integer', min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
  /** One stop sequence or up to four (OpenAI's bound). */
  stop: { kind: 'stop', min: 1, max: 4 },
} as const satisfies Record<string, { kind: 'number' | 'integer' | 'stop'; min: number; max: number }>;

export type ModelParameterName = keyof typeof MODEL_PARAMETER_RULES;
export const MODEL_PARAMETER_NAMES = Object.keys(MODEL_PARAMETER_RULES) as ModelParameterName[];

export interface ModelParameters {
  temperature?: number;
  top_p?: number;
  top_k?: number;
  max_tokens?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  seed?: number;
  stop?: string | string[];
}

export function isModelParameterName(name: string): name is ModelParameterName {
  return Object.hasOwn(MODEL_PARAMETER_RULES, name);
}

/** Why `value` is not a valid `name`, or undefined when it is. */
export function modelParameterProblem(name: string, value: unknown): string | undefined {
  if (!isModelParameterName(name)) return `${name} is not a known parameter (known: ${MODEL_PARAMETER_NAMES.join(', ')})`;
  const rule = MODEL_PARAMETER_RULES[name];
  if (rule.kind === 'stop') {
    const ok =
      (typeof value === 'string' && value.length > 0) ||
      (Array.isArray(value) && value.length >= rule.min && value.length <= rule.max && value.every((s) => typeof s === 'string' && s.length > 0));
    return ok ? undefined : `${name} must be a non-empty string or an array of ${rule.min}-${rule.max} non-empty strings`;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${name} must be a number`;
  if (rule.kind === 'integer' && !Number.isInteger(value)) return `${name} must be an integer`;
  if (value < rule.min || value > rule.max) return `${name} must be between ${rule.min} and ${rule.max}`;
  return undefined;
}

/** Every problem of a parameters object, as `field: reason` lines (empty when valid). */
export function modelParametersProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['must be an object of parameter name -> value'];
  return Object.entries(value).flatMap(([k, v]) => {
    const problem = modelParameterProblem(k, v);
    return problem ? [problem] : [];
  });
}

export type ParsedModelParameters = { ok: true; parameters: ModelParameters } | { ok: false; param: string; message: string };

/**
 * The parameters of a model name's suffix (`temperature=0.2,top_p=0.9`): numbers for the numeric
 * parameters, a single sequence for `stop` (a comma separates parameters, so a stop sequence cannot
 * hold one). The first unknown or invalid parameter is named.
 */
export function parseModelParameters(text: string): ParsedModelParameters {
  const parameters: Record<string, unknown> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    const name = (eq === -1 ? pair : pair.slice(0, eq)).trim();
    if (eq === -1) return { ok: false, param: name, message: `the model parameter \`${name}\` has no value (write ${name || 'name'}=value)` };
    const raw = pair.slice(eq + 1).trim();
    if (!isModelParameterName(name)) {
      return { ok: false, param: name, message: `\`${name}\` is not a known model parameter (known: ${MODEL_PARAMETER_NAMES.join(', ')})` };
    }
    const value = MODEL_PARAMETER_RULES[name].kind === 'stop' ? raw : raw === '' ? NaN : Number(raw);
    const problem = modelParameterProblem(name, value);
    if (problem) return { ok: false, param: name, message: `the model parameter ${problem} (got \`${raw}\`)` };
    if (Object.hasOwn(parameters, name)) return { ok: false, param: name, message: `the model parameter \`${name}\` is given twice` };
    parameters[name] = value;
  }
  return { ok: true, parameters: parameters as ModelParameters };
}

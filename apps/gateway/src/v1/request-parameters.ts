import type { ModelParameterName, ModelParameters } from '#libs/contracts';

/** Where an endpoint's body holds each model parameter (absent = the format has no such field). */
export interface ParameterFields {
  fields: Partial<Record<ModelParameterName, string>>;
  /** The body fields that bound the output (the first present one counts); `max_tokens` writes the first when none is. */
  outputFields: readonly string[];
  /** Anthropic's stop_sequences is always an array. */
  stopAsArray?: boolean;
  /**
   * The output field to write when the body has none, by the first target's adapter, where it is
   * not the last of outputFields (OpenAI's reasoning models refuse max_tokens).
   */
  fillOutputFieldByAdapter?: Readonly<Record<string, string>>;
}

/** The field an absent output bound is written to, for a route whose first target uses `adapter`. */
export function outputFillField(fields: ParameterFields, adapter: string): string | undefined {
  return fields.fillOutputFieldByAdapter?.[adapter] ?? fields.outputFields.at(-1);
}

/** OpenAI's chat and completions fields (OpenAI has no top_k). */
export const OPENAI_PARAMETER_FIELDS: ParameterFields['fields'] = Object.freeze({
  temperature: 'temperature',
  top_p: 'top_p',
  stop: 'stop',
  presence_penalty: 'presence_penalty',
  frequency_penalty: 'frequency_penalty',
  seed: 'seed',
});

/**
 * Writes model parameters into a client's body before the adapter builds the upstream request (so
 * the pass-through path sees them too): `override` (the model name's own parameters) replaces the
 * body's values, otherwise (the provider model's defaults) only what the body leaves out is filled.
 */
export function applyModelParameters(
  body: Record<string, unknown>,
  params: Readonly<ModelParameters>,
  fields: ParameterFields,
  override: boolean,
  fillField: string | undefined = fields.outputFields.at(-1),
): void {
  for (const name in params) {
    const value = params[name as ModelParameterName];
    if (value === undefined) continue;
    if (name === 'max_tokens') {
      const present = fields.outputFields.find((f) => body[f] !== undefined);
      if (present !== undefined ? override : fillField !== undefined) body[present ?? fillField!] = value;
      continue;
    }
    const field = fields.fields[name as ModelParameterName];
    if (field === undefined || (!override && body[field] !== undefined)) continue;
    body[field] = name === 'stop' && fields.stopAsArray && typeof value === 'string' ? [value] : value;
  }
}

/** The output bound a body asks for: [field, value] of the first output field present. */
export function askedOutput(body: Record<string, unknown>, fields: ParameterFields): [string, unknown] | undefined {
  for (const f of fields.outputFields) if (body[f] !== undefined) return [f, body[f]];
  return undefined;
}

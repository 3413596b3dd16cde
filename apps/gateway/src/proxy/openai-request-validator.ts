import { Injectable } from '@nestjs/common';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { openAIRequestSchemas } from './openai-request-schemas.generated.js';

/** Why a /v1 request body was refused: `param` is the JSON path of the bad field (`messages[0].role`). */
export interface InvalidRequest {
  param: string;
  message: string;
}

type Validate = (body: unknown) => InvalidRequest | undefined;

/** The properties that tell the branches of a union apart (message role, content part type). */
const DISCRIMINATORS = ['role', 'type'];

/**
 * Ranges OpenAI's spec leaves open and OpenAI itself enforces, laid over the vendored schemas
 * (allOf), so the vendored file stays as published. Non-finite numbers (JSON.parse reads 1e309 as
 * Infinity, which JSON.stringify would forward as null) are refused by ajv's strictNumbers.
 */
const GATEWAY_RANGES = {
  chat: {
    properties: {
      model: { minLength: 1 },
      max_tokens: { minimum: 1 },
      max_completion_tokens: { minimum: 1 },
    },
  },
  completion: { properties: { model: { minLength: 1 } } },
  embedding: { properties: { model: { minLength: 1 } } },
} as const;

/** The two formats the request schemas use, checked cheaply: an image may be a data: URL of megabytes. */
const FORMATS = {
  uri: /^[A-Za-z][A-Za-z0-9+.-]*:/,
  int64: { type: 'number' as const, validate: (n: number) => Number.isInteger(n) },
};

/**
 * Validates /v1 request bodies against OpenAI's published request schemas (vendored in
 * openai-request-schemas.generated.ts), compiled once at start. Stops at the first error
 * (allErrors: false) and builds no error messages on the way (messages: false): a valid body,
 * the common case, costs a few microseconds; only a refused one pays for the readable message.
 */
@Injectable()
export class OpenAIRequestValidator {
  /** POST /v1/chat/completions */
  readonly chatCompletion: Validate;
  /** POST /v1/completions */
  readonly completion: Validate;
  /** POST /v1/embeddings */
  readonly embedding: Validate;

  constructor() {
    const ajv = new Ajv2020({
      strict: false, // the spec uses keywords ajv does not know
      strictNumbers: true, // NaN and ±Infinity are not numbers
      allErrors: false,
      messages: false,
      verbose: true, // errors carry their schema: union branches are told apart by their discriminator
      validateFormats: true,
      formats: FORMATS,
      logger: false,
      discriminator: true,
    });
    const { schemas } = openAIRequestSchemas;
    this.chatCompletion = explaining(ajv.compile({ allOf: [withDiscriminators(schemas.CreateChatCompletionRequest), GATEWAY_RANGES.chat] }));
    this.completion = explaining(ajv.compile({ allOf: [withDiscriminators(schemas.CreateCompletionRequest), GATEWAY_RANGES.completion] }));
    this.embedding = explaining(ajv.compile({ allOf: [withDiscriminators(schemas.CreateEmbeddingRequest), GATEWAY_RANGES.embedding] }));
  }
}

/**
 * A copy of `schema` in which every oneOf whose branches are told apart by a required `role` or
 * `type` with fixed values (messages by role, content parts by type) carries an OpenAPI
 * `discriminator`: ajv then validates only the branch the value names instead of trying all six
 * (a oneOf must try every branch to prove exactly one matches), which halves the cost of a chat body.
 * Only an optimisation: the set of accepted bodies is the same.
 */
export function withDiscriminators(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withDiscriminators);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = withDiscriminators(v);
  const branches = out.oneOf;
  if (Array.isArray(branches) && !('discriminator' in out)) {
    const tag = DISCRIMINATORS.find((d) => branches.every((b) => fixedValues(b, d) !== undefined));
    if (tag) {
      const all = branches.flatMap((b) => fixedValues(b, tag)!);
      if (new Set(all).size === all.length) out.discriminator = { propertyName: tag };
    }
  }
  return out;
}

/** The values a branch allows for a required property with an enum or const, else undefined. */
function fixedValues(branch: unknown, tag: string): unknown[] | undefined {
  const b = branch as { properties?: Record<string, { enum?: unknown[]; const?: unknown }>; required?: unknown[] };
  const p = b?.properties?.[tag];
  if (!p || !Array.isArray(b.required) || !b.required.includes(tag)) return undefined;
  return p.enum ?? ('const' in p ? [p.const] : undefined);
}

function explaining(validate: ValidateFunction): Validate {
  return (body) => (validate(body) ? undefined : explain(validate.errors ?? [], body));
}

/**
 * Turns ajv's errors (the first failure, preceded by the failures of each branch of any
 * oneOf/anyOf on its way) into one readable error about the field the caller most likely meant:
 * in a union, branches whose type or discriminator (`role`, `type`) does not match are set aside,
 * so `{"role":"user","content":5}` is reported on `content`, not as "matches no message shape".
 */
export function explain(errors: ErrorObject[], body: unknown): InvalidRequest {
  const last = errors[errors.length - 1];
  if (!last) return { param: 'body', message: 'The request body is invalid.' };
  return describe(last, errors.slice(0, -1), body);
}


function describe(error: ErrorObject, before: ErrorObject[], body: unknown): InvalidRequest {
  if (error.keyword !== 'oneOf' && error.keyword !== 'anyOf') return single(error, body);
  const path = error.instancePath;
  if (error.keyword === 'oneOf' && Array.isArray((error.params as { passingSchemas?: unknown }).passingSchemas)) {
    return { param: param(path), message: `Invalid value for '${param(path)}': it matches more than one of the allowed shapes.` };
  }
  const prefix = `${error.schemaPath}/`;
  const branches = new Map<string, ErrorObject[]>();
  for (const e of before) {
    if (!e.schemaPath.startsWith(prefix)) continue;
    const branch = e.schemaPath.slice(prefix.length).split('/', 1)[0]!;
    let list = branches.get(branch);
    if (!list) branches.set(branch, (list = []));
    list.push(e);
  }
  const typeMismatches: ErrorObject[] = [];
  const discriminatorMismatches: { at: string; allowed: unknown[] }[] = [];
  let best: { final: ErrorObject; errors: ErrorObject[] } | undefined;
  const branchSchemas = Array.isArray(error.schema) ? (error.schema as unknown[]) : [];
  for (const [branch, errors] of branches) {
    const final = errors[errors.length - 1]!;
    const discriminator = discriminatorMismatch(branchSchemas[Number(branch)], path, body);
    if (discriminator) discriminatorMismatches.push(discriminator);
    else if (final.keyword === 'type' && final.instancePath === path) typeMismatches.push(final);
    else if (!best || further(final.instancePath, best.final.instancePath)) best = { final, errors: errors.slice(0, -1) };
  }
  if (best) return describe(best.final, best.errors, body);
  if (discriminatorMismatches.length > 0) {
    const at = discriminatorMismatches[0]!.at;
    const allowed = [...new Set(discriminatorMismatches.flatMap((m) => m.allowed))];
    if (valueAt(body, at) === undefined) return { param: param(at), message: `Missing required parameter: '${param(at)}'.` };
    return { param: param(at), message: `Invalid value for '${param(at)}': ${show(valueAt(body, at))} is not one of the supported values: ${allowed.map((v) => JSON.stringify(v)).join(', ')}.` };
  }
  const expected = [...new Set(typeMismatches.flatMap((e) => expectedTypes(e)))];
  return typeError(path, expected, body);
}

/**
 * The branch is meant for another kind of object when its schema allows its `role` or `type`
 * property only values the body's does not have (ajv may have failed the branch on something
 * else first, such as a required property, so its errors alone do not tell).
 */
function discriminatorMismatch(branch: unknown, path: string, body: unknown): { at: string; allowed: unknown[] } | undefined {
  const properties = (branch as { properties?: Record<string, { enum?: unknown[]; const?: unknown }> } | undefined)?.properties;
  if (!properties) return undefined;
  for (const d of DISCRIMINATORS) {
    const p = properties[d];
    const allowed = p?.enum ?? (p && 'const' in p ? [p.const] : undefined);
    if (allowed && !allowed.includes(valueAt(body, `${path}/${d}`))) return { at: `${path}/${d}`, allowed };
  }
  return undefined;
}

function single(error: ErrorObject, body: unknown): InvalidRequest {
  const at = error.instancePath;
  const p = param(at);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const missing = joinPath(at, String(params.missingProperty));
      return { param: param(missing), message: `Missing required parameter: '${param(missing)}'.` };
    }
    case 'additionalProperties': {
      const extra = joinPath(at, String(params.additionalProperty));
      return { param: param(extra), message: `Unrecognized request argument supplied: '${param(extra)}'.` };
    }
    case 'type':
      return typeError(at, expectedTypes(error), body);
    case 'enum':
    case 'const':
      return { param: p, message: `Invalid value for '${p}': ${show(valueAt(body, at))} is not one of the supported values: ${allowedValues(error).map((v) => JSON.stringify(v)).join(', ')}.` };
    case 'minimum':
    case 'exclusiveMinimum':
      return { param: p, message: `Invalid '${p}': ${show(valueAt(body, at))} is below the minimum value; expected a value ${params.comparison} ${params.limit}.` };
    case 'maximum':
    case 'exclusiveMaximum':
      return { param: p, message: `Invalid '${p}': ${show(valueAt(body, at))} is above the maximum value; expected a value ${params.comparison} ${params.limit}.` };
    case 'minItems':
      return { param: p, message: `Invalid '${p}': expected an array with at least ${params.limit} item(s).` };
    case 'maxItems':
      return { param: p, message: `Invalid '${p}': expected an array with at most ${params.limit} items.` };
    case 'minLength':
      return { param: p, message: `Invalid '${p}': expected a string of at least ${params.limit} character(s).` };
    case 'maxLength':
      return { param: p, message: `Invalid '${p}': expected a string of at most ${params.limit} characters.` };
    case 'minProperties':
    case 'maxProperties':
      return { param: p, message: `Invalid '${p}': expected an object with ${error.keyword === 'minProperties' ? 'at least' : 'at most'} ${params.limit} properties.` };
    case 'format':
      return { param: p, message: `Invalid '${p}': expected a ${params.format} value.` };
    case 'discriminator': {
      const tag = joinPath(at, String(params.tag));
      if (valueAt(body, tag) === undefined) return { param: param(tag), message: `Missing required parameter: '${param(tag)}'.` };
      const branches = ((error.parentSchema as { oneOf?: unknown[] } | undefined)?.oneOf ?? []).flatMap((b) => fixedValues(b, String(params.tag)) ?? []);
      return { param: param(tag), message: `Invalid value for '${param(tag)}': ${show(valueAt(body, tag))} is not one of the supported values: ${branches.map((v) => JSON.stringify(v)).join(', ')}.` };
    }
    case 'oneOf':
    case 'anyOf':
      return { param: p, message: `Invalid value for '${p}': it matches none of the allowed shapes.` };
    default:
      return { param: p, message: `Invalid value for '${p}' (${error.keyword}).` };
  }
}

function typeError(at: string, expected: string[], body: unknown): InvalidRequest {
  const p = param(at);
  const value = valueAt(body, at);
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return { param: p, message: `Invalid value for '${p}': expected a finite number, but the number is outside JSON's range (read as ${value}).` };
  }
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `${article(typeof value)} (${show(value)})`;
  const wanted = expected.length === 1 ? article(expected[0]!) : `one of ${expected.join(', ')}`;
  return { param: p, message: `Invalid type for '${p}': expected ${wanted}, but got ${got} instead.` };
}

function article(word: string): string {
  return `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;
}

function expectedTypes(error: ErrorObject): string[] {
  const type = (error.params as { type?: unknown }).type;
  return String(type ?? '').split(',').filter(Boolean);
}

function allowedValues(error: ErrorObject): unknown[] {
  const params = error.params as { allowedValues?: unknown[]; allowedValue?: unknown };
  return params.allowedValues ?? [params.allowedValue];
}

function joinPath(at: string, key: string): string {
  return `${at}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function segments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Whether a branch that failed at `a` got further into the body than one that failed at `b`: deeper, or at a later item. */
function further(a: string, b: string): boolean {
  const sa = segments(a);
  const sb = segments(b);
  if (sa.length !== sb.length) return sa.length > sb.length;
  for (let i = 0; i < sa.length; i++) {
    if (sa[i] !== sb[i]) return /^\d+$/.test(sa[i]!) && /^\d+$/.test(sb[i]!) && Number(sa[i]) > Number(sb[i]);
  }
  return false;
}

/** The JSON pointer `/messages/0/role` as the `param` OpenAI's errors use: `messages[0].role`. */
function param(pointer: string): string {
  let out = '';
  for (const s of segments(pointer)) out += /^\d+$/.test(s) ? `[${s}]` : out === '' ? s : `.${s}`;
  return out === '' ? 'body' : out;
}

function valueAt(body: unknown, pointer: string): unknown {
  let value = body;
  for (const s of segments(pointer)) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[s] : undefined;
  return value;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

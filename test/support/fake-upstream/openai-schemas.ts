import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * Validators for OpenAI's response schemas (test/fixtures/openai-openapi/schemas.json, extracted
 * from OpenAI's public OpenAPI spec), for tests that check what a /v1 route or the fake upstream sends.
 */

export type OpenAISchemaName =
  | 'CreateChatCompletionResponse'
  | 'CreateChatCompletionStreamResponse'
  | 'CreateCompletionResponse'
  | 'CreateEmbeddingResponse'
  | 'ListModelsResponse'
  | 'Model'
  | 'Error'
  | 'ErrorResponse'
  | 'CompletionUsage';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root, from test/support/fake-upstream in sources or dist/test/support/fake-upstream when built. */
const ROOT = path.resolve(here, here.includes(`${path.sep}dist${path.sep}test${path.sep}`) ? '../../../..' : '../../..');
/** Vendored (MIT, source in its README) so a fresh clone tests without anything beside it. */
export const OPENAI_SCHEMAS_PATH = path.resolve(ROOT, 'test/fixtures/openai-openapi/schemas.json');

let validators: Map<OpenAISchemaName, ValidateFunction> | undefined;

function compileAll(): Map<OpenAISchemaName, ValidateFunction> {
  const file = JSON.parse(readFileSync(OPENAI_SCHEMAS_PATH, 'utf8')) as { schemas: Record<OpenAISchemaName, object> };
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  // ajv-formats is CommonJS: its default export arrives as module.exports, whose `default` is the plugin.
  addFormatsModule.default(ajv, ['uri', 'date']);
  // OpenAI's own formats: unix seconds and a JSON number.
  ajv.addFormat('unixtime', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
  ajv.addFormat('float', { type: 'number', validate: (n: number) => Number.isFinite(n) });
  return new Map(Object.entries(file.schemas).map(([name, schema]) => [name as OpenAISchemaName, ajv.compile(schema)]));
}

/** Validates `value` against one of OpenAI's response schemas; returns the errors, [] when valid. */
export function openAISchemaErrors(name: OpenAISchemaName, value: unknown): ErrorObject[] {
  validators ??= compileAll();
  const validate = validators.get(name);
  if (!validate) throw new Error(`no OpenAI schema named ${name} in ${OPENAI_SCHEMAS_PATH}`);
  return validate(value) ? [] : [...(validate.errors ?? [])];
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * Checks of a whole OpenAPI 3.1 document, for the tests of /docs-json: the OpenAPI Initiative's
 * document schema (test/fixtures/openapi-3.1), every `$ref` resolving, and every component schema
 * being a valid JSON Schema 2020-12.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root, from test/support in sources or dist/test/support when built. */
const ROOT = path.resolve(here, here.includes(`${path.sep}dist${path.sep}test${path.sep}`) ? '../../..' : '../..');
export const OPENAPI_31_SCHEMA_PATH = path.resolve(ROOT, 'test/fixtures/openapi-3.1/schema.json');

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  // ajv-formats is CommonJS: its default export arrives as module.exports, whose `default` is the plugin.
  addFormatsModule.default(ajv);
  ajv.addFormat('media-range', true);
  // OpenAI's own formats: unix seconds and a JSON number.
  ajv.addFormat('unixtime', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
  ajv.addFormat('float', { type: 'number', validate: (n: number) => Number.isFinite(n) });
  return ajv;
}

/** The document's violations of the OpenAPI 3.1 document schema; [] when it conforms. */
export function openApi31Errors(document: unknown): ErrorObject[] {
  // Schema objects are `$dynamicRef: "#meta"`, anchored at $defs/schema (only a dialect schema such
  // as schema-base.json re-anchors it). ajv resolves a $dynamicAnchor below a resource's root to the
  // root instead, which would validate every schema object as a whole document: a plain $ref to
  // the same place keeps the meaning.
  const text = readFileSync(OPENAPI_31_SCHEMA_PATH, 'utf8').replaceAll('"$dynamicRef": "#meta"', '"$ref": "#/$defs/schema"');
  const validate = newAjv().compile(JSON.parse(text) as object);
  return validate(document) ? [] : [...(validate.errors ?? [])];
}

/** Follows a local JSON pointer (`#/components/schemas/X/properties/y`); undefined when nothing is there. */
export function resolvePointer(document: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = document;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Every `$ref` in the document that does not point at something in it, with where it sits. */
export function unresolvedRefs(document: unknown): string[] {
  const broken: string[] = [];
  const walk = (node: unknown, at: string): void => {
    if (Array.isArray(node)) return node.forEach((item, i) => walk(item, `${at}/${i}`));
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && resolvePointer(document, value) === undefined) broken.push(`${at}: ${value}`);
      else walk(value, `${at}/${key}`);
    }
  };
  walk(document, '#');
  return broken;
}

/**
 * Checks each component schema against the JSON Schema 2020-12 meta-schema and compiles it within the document (so its `$ref`s
 * resolve) and returns the messages of those that fail, by name.
 */
export function componentSchemaErrors(document: { components?: { schemas?: Record<string, unknown> } }): string[] {
  const ajv = newAjv();
  ajv.addSchema({ $id: 'doc', components: document.components ?? {} });
  const errors: string[] = [];
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
    if (!ajv.validateSchema(schema as object)) {
      errors.push(`${name}: ${ajv.errorsText(ajv.errors)}`);
      continue;
    }
    try {
      ajv.compile({ $ref: `doc#/components/schemas/${name}` });
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message}`);
    }
  }
  return errors;
}

/** Validates a value against one component schema of the document; the errors, [] when valid. */
export function componentSchemaValidator(document: { components?: { schemas?: Record<string, unknown> } }): (name: string, value: unknown) => ErrorObject[] {
  const ajv = newAjv();
  ajv.addSchema({ $id: 'doc', components: document.components ?? {} });
  return (name, value) => {
    const validate = ajv.getSchema(`doc#/components/schemas/${name}`) ?? ajv.compile({ $ref: `doc#/components/schemas/${name}` });
    return validate(value) ? [] : [...(validate.errors ?? [])];
  };
}

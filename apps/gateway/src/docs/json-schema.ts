/** A JSON Schema (draft 2020-12), which is what an OpenAPI 3.1 schema object is. */
export type JsonSchema = { readonly [keyword: string]: unknown };

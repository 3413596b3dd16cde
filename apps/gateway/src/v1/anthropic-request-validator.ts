import { Injectable } from '@nestjs/common';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { anthropicSchemas } from '../docs/anthropic-schemas.js';
import { explain, type InvalidRequest } from '../proxy/openai-request-validator.js';

const DOCUMENT_ID = 'https://gateway.invalid/anthropic';

/**
 * Validates /v1/messages and /v1/messages/count_tokens bodies against the schemas /docs-json
 * publishes for them (docs/anthropic-schemas.ts: one source for the documentation and the check),
 * compiled once at start, before any upstream is paid.
 */
@Injectable()
export class AnthropicRequestValidator {
  readonly messages: (body: unknown) => InvalidRequest | undefined;
  readonly countTokens: (body: unknown) => InvalidRequest | undefined;

  constructor() {
    const ajv = new Ajv2020({ strict: false, strictNumbers: true, allErrors: false, messages: false, verbose: true, logger: false });
    // The schemas refer to each other as #/components/schemas/...: one document holds them all.
    ajv.addSchema({ $id: DOCUMENT_ID, components: { schemas: anthropicSchemas } });
    const compile = (name: string): ((body: unknown) => InvalidRequest | undefined) => {
      const validate = ajv.compile({ $ref: `${DOCUMENT_ID}#/components/schemas/${name}` });
      return (body) => (validate(body) ? undefined : explain(validate.errors ?? [], body));
    };
    this.messages = compile('AnthropicMessagesRequest');
    this.countTokens = compile('AnthropicCountTokensRequest');
  }
}

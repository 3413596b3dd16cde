import { Injectable } from '@nestjs/common';
import { embeddingRequestFromOpenAI, openAIEmbeddingListFromCanonical, type EmbeddingRequest, type EmbeddingResponse } from '#libs/adapter-sdk';
import { OpenAIRequestValidator } from '../proxy/openai-request-validator.js';
import { GenerationCall, type GenerationEndpoint } from './generation-call.js';
import { openAIResponseWriter } from './openai-response-writer.js';
import type { V1Request } from './v1-request.js';

function inputText(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  return Array.isArray(input) ? input.filter((p): p is string => typeof p === 'string') : [];
}

/**
 * POST /v1/embeddings, float or base64 (the `openai` client asks for base64): an OpenAI-format
 * upstream gets the client's encoding_format and its answer passes through; another is translated
 * and encoded as the client asked.
 */
@Injectable()
export class EmbeddingsEndpoint {
  private readonly endpoint: GenerationEndpoint<EmbeddingRequest, EmbeddingResponse>;

  constructor(
    private readonly generation: GenerationCall,
    validator: OpenAIRequestValidator,
  ) {
    this.endpoint = {
      operation: 'embedding',
      spanOperation: 'embeddings',
      writer: openAIResponseWriter,
      validate: validator.embedding,
      decode: embeddingRequestFromOpenAI,
      isStream: () => false,
      parameterFields: { fields: {}, outputFields: [] }, // no generation parameters
      promptText: (body) => inputText(body.input),
      promptParam: 'input',
      encodeWhole: (res, ctx, body) => openAIEmbeddingListFromCanonical(res, { model: ctx.model, encoding: body.encoding_format === 'base64' ? 'base64' : 'float' }),
    };
  }

  handle(call: V1Request): Promise<void> {
    return this.generation.handle(call, this.endpoint);
  }
}

import { Injectable } from '@nestjs/common';
import { completionRequestFromOpenAI, OpenAICompletionChunkEncoder, openAICompletionFromCanonical, type CompletionRequest, type CompletionResponse } from '#libs/adapter-sdk';
import { OpenAIRequestValidator } from '../proxy/openai-request-validator.js';
import { clientWantsUsage } from './chat-completions.endpoint.js';
import { GenerationCall, type GenerationEndpoint } from './generation-call.js';
import { openAIResponseWriter } from './openai-response-writer.js';
import { OPENAI_PARAMETER_FIELDS } from './request-parameters.js';
import type { V1Request } from './v1-request.js';

function promptText(prompt: unknown): string[] {
  if (typeof prompt === 'string') return [prompt];
  return Array.isArray(prompt) ? prompt.filter((p): p is string => typeof p === 'string') : [];
}

/** POST /v1/completions (legacy text completions), OpenAI's format, to any adapter that has a completion operation. */
@Injectable()
export class CompletionsEndpoint {
  private readonly endpoint: GenerationEndpoint<CompletionRequest, CompletionResponse>;

  constructor(
    private readonly generation: GenerationCall,
    validator: OpenAIRequestValidator,
  ) {
    this.endpoint = {
      operation: 'completion',
      spanOperation: 'text_completion',
      writer: openAIResponseWriter,
      validate: validator.completion,
      decode: completionRequestFromOpenAI,
      isStream: (body) => body.stream === true,
      parameterFields: { fields: OPENAI_PARAMETER_FIELDS, outputFields: ['max_tokens'] },
      promptText: (body) => promptText(body.prompt),
      promptParam: 'prompt',
      encodeWhole: (res, ctx) => openAICompletionFromCanonical(res, { fallbackId: `cmpl-${ctx.requestId}`, now: ctx.now, model: ctx.model }),
      createEncoder: (ctx, body) => new OpenAICompletionChunkEncoder({ fallbackId: `cmpl-${ctx.requestId}`, now: ctx.now, model: ctx.model, includeUsage: clientWantsUsage(body) }),
      passThroughDrop: (body) => (clientWantsUsage(body) ? undefined : (event, parts) => parts.length > 0 && parts.every((p) => p.type === 'usage') && event.latin1.includes('"choices":[]')),
    };
  }

  handle(call: V1Request): Promise<void> {
    return this.generation.handle(call, this.endpoint);
  }
}

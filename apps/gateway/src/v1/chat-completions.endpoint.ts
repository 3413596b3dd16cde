import { Injectable } from '@nestjs/common';
import { chatRequestFromOpenAI, OpenAIChatChunkEncoder, openAIChatResponseFromCanonical, type ChatRequest, type ChatResponse } from '#libs/adapter-sdk';
import { InputLimit } from '../proxy/input-limit.js';
import { OpenAIRequestValidator } from '../proxy/openai-request-validator.js';
import { GenerationCall, type GenerationEndpoint } from './generation-call.js';
import { OPENAI_PARAMETER_FIELDS } from './request-parameters.js';
import { openAIResponseWriter } from './openai-response-writer.js';
import type { V1Request } from './v1-request.js';

/** Whether the client asked for the usage chunk (the gateway always asks its upstream for it). */
export function clientWantsUsage(body: Record<string, unknown>): boolean {
  const options = body.stream_options as { include_usage?: unknown } | undefined;
  return options?.include_usage === true;
}

/**
 * POST /v1/chat/completions, OpenAI's format, to any adapter: an OpenAI-format upstream gets the
 * client's body and its answer passes through as bytes; any other is translated both ways.
 */
@Injectable()
export class ChatCompletionsEndpoint {
  private readonly endpoint: GenerationEndpoint<ChatRequest, ChatResponse>;

  constructor(
    private readonly generation: GenerationCall,
    validator: OpenAIRequestValidator,
  ) {
    this.endpoint = {
      operation: 'chat',
      spanOperation: 'chat',
      writer: openAIResponseWriter,
      validate: validator.chatCompletion,
      decode: chatRequestFromOpenAI,
      isStream: (body) => body.stream === true,
      parameterFields: {
        fields: OPENAI_PARAMETER_FIELDS,
        outputFields: ['max_completion_tokens', 'max_tokens'],
        // vLLM, Ollama and most compatible servers read only max_tokens; OpenAI's reasoning models refuse it.
        fillOutputFieldByAdapter: { openai: 'max_completion_tokens', 'azure-openai': 'max_completion_tokens' },
      },
      promptText: (body) => InputLimit.promptText(body.messages),
      promptParam: 'messages',
      encodeWhole: (res, ctx) => openAIChatResponseFromCanonical(res, { fallbackId: `chatcmpl-${ctx.requestId}`, now: ctx.now, model: ctx.model }),
      createEncoder: (ctx, body) => new OpenAIChatChunkEncoder({ fallbackId: `chatcmpl-${ctx.requestId}`, now: ctx.now, model: ctx.model, includeUsage: clientWantsUsage(body) }),
      // The usage-only chunk (choices: []) the gateway asked for on the client's behalf.
      passThroughDrop: (body) => (clientWantsUsage(body) ? undefined : (event, parts) => parts.length > 0 && parts.every((p) => p.type === 'usage') && event.latin1.includes('"choices":[]')),
    };
  }

  handle(call: V1Request): Promise<void> {
    return this.generation.handle(call, this.endpoint);
  }
}

import { Injectable } from '@nestjs/common';
import { AnthropicEventEncoder, anthropicMessageFromCanonical, chatRequestFromAnthropic, type ChatRequest, type ChatResponse } from '#libs/adapter-sdk';
import { InputLimit } from '../proxy/input-limit.js';
import { anthropicResponseWriter } from './anthropic-response-writer.js';
import { AnthropicRequestValidator } from './anthropic-request-validator.js';
import { GenerationCall, type GenerationEndpoint } from './generation-call.js';
import type { V1Request } from './v1-request.js';

/** The text of an Anthropic request that counts towards its input: the messages and the system prompt. */
export function anthropicPromptText(body: Record<string, unknown>): string[] {
  const parts = InputLimit.promptText(body.messages);
  const system = body.system;
  if (typeof system === 'string') parts.push(system);
  else if (Array.isArray(system)) for (const b of system as { text?: unknown }[]) if (typeof b?.text === 'string') parts.push(b.text);
  return parts;
}

/** An id in Anthropic's shape for an answer whose provider gave none the format accepts. */
export function anthropicMessageId(requestId: string): string {
  // Not replaceAll: 2 us a call in a translated stream's profile (`npm run bench -- --profile --profile-scenario anthropic-to-openai-stream-c64`).
  let id = 'msg_';
  let from = 0;
  for (let at = requestId.indexOf('-'); at !== -1; at = requestId.indexOf('-', from)) {
    id += requestId.slice(from, at);
    from = at + 1;
  }
  return id + requestId.slice(from);
}

/**
 * POST /v1/messages, Anthropic's format, to any adapter: an Anthropic upstream gets the client's
 * body untouched but for the model (cache_control, thinking, betas kept) and its answer passes
 * through as bytes; any other is translated both ways, streams into Anthropic's event types.
 */
@Injectable()
export class MessagesEndpoint {
  private readonly endpoint: GenerationEndpoint<ChatRequest, ChatResponse>;

  constructor(
    private readonly generation: GenerationCall,
    validator: AnthropicRequestValidator,
  ) {
    this.endpoint = {
      operation: 'chat',
      spanOperation: 'chat',
      writer: anthropicResponseWriter,
      validate: validator.messages,
      decode: chatRequestFromAnthropic,
      isStream: (body) => body.stream === true,
      parameterFields: { fields: { temperature: 'temperature', top_p: 'top_p', top_k: 'top_k', stop: 'stop_sequences' }, outputFields: ['max_tokens'], stopAsArray: true },
      promptText: anthropicPromptText,
      promptParam: 'messages',
      encodeWhole: (res, ctx) => anthropicMessageFromCanonical(res, { fallbackId: anthropicMessageId(ctx.requestId), model: ctx.model }),
      createEncoder: (ctx) => new AnthropicEventEncoder({ fallbackId: anthropicMessageId(ctx.requestId), model: ctx.model }),
    };
  }

  handle(call: V1Request): Promise<void> {
    return this.generation.handle(call, this.endpoint);
  }
}

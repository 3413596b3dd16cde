import { Injectable, Logger } from '@nestjs/common';

import { ReadModelService } from '../read-model/read-model.service.js';
import { anthropicResponseWriter } from './anthropic-response-writer.js';
import { AnthropicRequestValidator } from './anthropic-request-validator.js';
import { invalidRequest } from './call-failure.js';
import { answerHeaders, writeJson, type AnswerContext } from './client-format-writer.js';
import { GenerationCall } from './generation-call.js';
import { anthropicPromptText } from './messages.endpoint.js';
import { UpstreamCallService, upstreamRequestId } from './upstream-call.service.js';
import type { V1Request } from './v1-request.js';

/** Says how the count was made: `provider` (the upstream counted) or `estimate` (the gateway's tokenizer). */
export const TOKEN_COUNT_HEADER = 'x-gateway-token-count';

/**
 * POST /v1/messages/count_tokens (Claude Code calls it when pointed at a gateway). A model served
 * by an adapter that counts (Anthropic's own count_tokens) is counted there; any other is estimated
 * locally with the gateway's BPE tokenizer, and the answer says so in x-gateway-token-count. Not a
 * model call: no usage is recorded (count_tokens is free at Anthropic), so no call span either.
 */
@Injectable()
export class CountTokensHandler {
  private readonly logger = new Logger('V1');

  constructor(
    private readonly readModel: ReadModelService,
    private readonly calls: UpstreamCallService,
    private readonly generation: GenerationCall,
    private readonly validator: AnthropicRequestValidator,
  ) {}

  async handle(call: V1Request): Promise<void> {
    const { res, requestId } = call;
    const ctx: AnswerContext = { requestId };
    const writer = anthropicResponseWriter;
    const invalid = this.validator.countTokens(call.body);
    if (invalid) {
      writer.writeFailure(res, invalidRequest(invalid.message, invalid.param), ctx);
      return;
    }
    const body = call.body as Record<string, unknown>;
    const name = body.model as string;
    const resolution = this.readModel.resolve(call.principal, name);
    if (!resolution.ok) {
      const { status, ...error } = resolution.error;
      writer.writeRequestError(res, status, error, ctx);
      return;
    }
    const route = resolution.route;
    if (route.kind !== undefined && route.kind !== 'chat') {
      writer.writeRequestError(res, 400, { message: `The model \`${name}\` is a ${route.kind} model; count_tokens counts a chat model's messages.`, code: 'wrong_model_kind', param: 'model' }, ctx);
      return;
    }
    const target = route.targets[0];
    const adapter = this.calls.adapterOf(target);
    if (adapter?.countTokens && adapter.nativeFormat === 'anthropic') {
      const result = await this.calls.call({ operation: 'countTokens', clientFormat: 'anthropic', route, body, canonical: () => ({ invalid: { param: 'body', message: 'not translated' } }), stream: false, clientHeaders: call.req.headers, requestId });
      if (!result.ok) {
        writer.writeFailure(res, result.failure, ctx);
        return;
      }
      const answer = result.answer;
      const bytes = answer.body.kind === 'whole' ? answer.body.bytes : Buffer.alloc(0);
      const decoded = adapter.countTokens.parseResponse(bytes);
      const id = upstreamRequestId(answer.headers);
      if (id !== undefined) ctx.upstreamRequestId = target.redactor.redact(id);
      if ('error' in decoded) {
        writer.writeFailure(res, { kind: 'upstream_invalid_response', message: target.redactor.redact(decoded.error.message), retryable: false }, ctx);
        return;
      }
      writeJson(res, 200, { input_tokens: decoded.value.inputTokens }, answerHeaders(ctx, { [TOKEN_COUNT_HEADER]: 'provider' }));
      return;
    }
    // An estimate: the text of messages, system prompt and tool definitions, counted with the model's tokenizer (o200k_base when no definition names one).
    const parts = anthropicPromptText(body);
    if (Array.isArray(body.tools)) parts.push(JSON.stringify(body.tools));
    let tokens: number;
    try {
      tokens = (await this.generation.countPrompt(call.principal, route, parts)).tokens;
    } catch (err) {
      this.logger.warn(`[${requestId}] token count failed: ${String((err as Error)?.message ?? err)}`);
      writer.writeRequestError(res, 500, { message: 'internal error', code: 'internal_error' }, ctx);
      return;
    }
    writeJson(res, 200, { input_tokens: tokens }, answerHeaders(ctx, { [TOKEN_COUNT_HEADER]: 'estimate' }));
  }
}


import {
  adapterError,
  finishReasonFromAnthropic,
  isRecord,
  jsonOrUndefined,
  parseToolInput,
  tokenCount,
  WarningSink,
  type AssistantContentPart,
  type CallWarning,
  type CanonicalUsage,
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  type Decoded,
  type FinishReason,
  type ImagePart,
  type ProviderOptions,
  type TextPart,
} from '#libs/adapter-sdk';

/**
 * Bedrock's Converse API (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html):
 * the same request body for Converse and ConverseStream, one message shape for every model family.
 */

type Block = Record<string, unknown>;

/** Converse's image formats (ImageBlock.format) by media type. */
const IMAGE_FORMATS: Readonly<Record<string, string>> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' };

function imageBlock(p: ImagePart, sink: WarningSink): Block | undefined {
  if (p.detail !== undefined) sink.unsupported('image_url.detail');
  if (p.source.type === 'url') {
    // Converse takes image bytes (or an S3 location), never an http URL: the gateway does not fetch it.
    sink.unsupported('image_url.url', 'Bedrock takes images as base64 data only (data: URLs); the image is left out');
    return undefined;
  }
  const format = IMAGE_FORMATS[p.source.mediaType];
  if (format === undefined) {
    sink.unsupported(`image.${p.source.mediaType}`, `Bedrock accepts ${Object.keys(IMAGE_FORMATS).join(', ')}; the image is left out`);
    return undefined;
  }
  return { image: { format, source: { bytes: p.source.data } } };
}

/** Converse's prompt-cache checkpoint: the prefix up to it is cached (Claude and Nova on Bedrock). */
const CACHE_POINT: Block = Object.freeze({ cachePoint: Object.freeze({ type: 'default' }) });

/**
 * Options of another format: Anthropic's cache_control on a block means "cache up to here", which is
 * a cachePoint after that block in Converse (true is returned); every other option is reported.
 */
function foreignOptions(options: ProviderOptions | undefined, sink: WarningSink, where: string): boolean {
  if (!options) return false;
  const anthropic = options.anthropic;
  if (anthropic?.cache_control === undefined) {
    sink.foreignOptions(options, 'bedrock', where);
    return false;
  }
  const { cache_control: _cacheControl, ...rest } = anthropic;
  sink.foreignOptions({ ...options, anthropic: rest }, 'bedrock', where);
  return true;
}

function contentBlocks(parts: ReadonlyArray<TextPart | ImagePart>, sink: WarningSink): Block[] {
  const out: Block[] = [];
  for (const p of parts) {
    const cachePoint = foreignOptions(p.providerOptions, sink, 'content.');
    if (p.type === 'text') {
      // Converse refuses an empty text block.
      if (p.text.length > 0) out.push({ text: p.text });
    } else {
      const img = imageBlock(p, sink);
      if (img) out.push(img);
    }
    if (cachePoint && out.length > 0) out.push(CACHE_POINT);
  }
  return out;
}

function assistantBlocks(parts: readonly AssistantContentPart[], sink: WarningSink): Block[] {
  const out: Block[] = [];
  for (const p of parts) {
    switch (p.type) {
      case 'text':
        if (p.text.length > 0) out.push({ text: p.text });
        if (foreignOptions(p.providerOptions, sink, 'content.') && out.length > 0) out.push(CACHE_POINT);
        break;
      case 'reasoning':
        // Bedrock (Claude) takes back only reasoning it signed itself.
        if (p.signature !== undefined) out.push({ reasoningContent: { reasoningText: { text: p.text, signature: p.signature } } });
        else sink.unsupported('messages.reasoning', 'reasoning without a signature is left out of the history');
        break;
      case 'redacted-reasoning':
        out.push({ reasoningContent: { redactedContent: p.data } });
        break;
      case 'tool-call':
        out.push({ toolUse: { toolUseId: p.toolCallId, name: p.toolName, input: parseToolInput(p.input, sink) } });
        if (foreignOptions(p.providerOptions, sink, 'content.')) out.push(CACHE_POINT);
        break;
    }
  }
  return out;
}

/** The messages and the system prompt. Converse alternates user and assistant turns: consecutive turns of one role are joined. */
function converseMessages(messages: readonly ChatMessage[], sink: WarningSink): { system: Block[]; messages: Array<{ role: string; content: Block[] }>; hasToolHistory: boolean } {
  const system: Block[] = [];
  const out: Array<{ role: string; content: Block[] }> = [];
  let hasToolHistory = false;
  const push = (role: 'user' | 'assistant', blocks: Block[]): void => {
    if (blocks.length === 0) return;
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const m of messages) {
    // A cache_control on the whole message caches up to its end.
    const cacheAfter = foreignOptions(m.providerOptions, sink, 'messages.');
    switch (m.role) {
      case 'system':
        if (out.length > 0) sink.other('a system message after the conversation started was moved to the system prompt');
        system.push(...contentBlocks(m.content, sink));
        if (cacheAfter && system.length > 0) system.push(CACHE_POINT);
        break;
      case 'user':
        push('user', [...contentBlocks(m.content, sink), ...(cacheAfter ? [CACHE_POINT] : [])]);
        break;
      case 'tool':
        hasToolHistory = true;
        push(
          'user',
          [
            ...m.content.flatMap((r) => {
              const cacheAfterResult = foreignOptions(r.providerOptions, sink, 'content.');
              const blocks = contentBlocks(r.content, sink);
              // A toolResult's content holds no cache point: one after the result caches as far.
              const content = blocks.filter((b) => b !== CACHE_POINT);
              // A toolResult needs at least one block.
              const result = { toolResult: { toolUseId: r.toolCallId, content: content.length > 0 ? content : [{ text: '' }], ...(r.isError ? { status: 'error' } : {}) } };
              return cacheAfterResult || content.length !== blocks.length ? [result, CACHE_POINT] : [result];
            }),
            ...(cacheAfter ? [CACHE_POINT] : []),
          ],
        );
        break;
      case 'assistant':
        if (m.content.some((p) => p.type === 'tool-call')) hasToolHistory = true;
        push('assistant', [...assistantBlocks(m.content, sink), ...(cacheAfter ? [CACHE_POINT] : [])]);
        break;
    }
  }
  return { system, messages: out, hasToolHistory };
}

/** Canonical -> a Converse (or ConverseStream) request body. */
export function converseRequestFromCanonical(req: ChatRequest): { body: Record<string, unknown>; warnings: CallWarning[] } {
  const sink = new WarningSink();
  sink.foreignOptions(req.providerOptions, 'bedrock');
  const { system, messages, hasToolHistory } = converseMessages(req.messages, sink);
  const body: Record<string, unknown> = { messages };
  if (system.length > 0) body.system = system;
  const inference: Record<string, unknown> = {};
  if (req.maxOutputTokens !== undefined) inference.maxTokens = req.maxOutputTokens;
  if (req.temperature !== undefined) {
    // OpenAI's range is 0-2; the models on Bedrock take 0-1.
    if (req.temperature > 1) sink.unsupported('temperature', `${req.temperature} is above Bedrock's maximum of 1; sent as 1`);
    inference.temperature = Math.min(req.temperature, 1);
  }
  if (req.topP !== undefined) inference.topP = req.topP;
  if (req.stopSequences !== undefined && req.stopSequences.length > 0) inference.stopSequences = req.stopSequences;
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;

  const choice = req.toolChoice;
  if (req.tools && req.tools.length > 0) {
    // Converse has no "none": without tool history the tools are left out, which is what "none" means;
    // with it Bedrock requires toolConfig, so the tools stay and the model may still call one.
    if (choice?.type === 'none' && !hasToolHistory) {
      // honoured by leaving the tools out
    } else {
      const toolConfig: Record<string, unknown> = {
        tools: req.tools.flatMap((t) => {
          const cacheAfter = foreignOptions(t.providerOptions, sink, 'tools.');
          if (t.strict !== undefined) sink.unsupported('tools.function.strict');
          const spec = { toolSpec: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), inputSchema: { json: t.inputSchema } } };
          return cacheAfter ? [spec, CACHE_POINT] : [spec];
        }),
      };
      if (choice?.type === 'none') sink.unsupported('tool_choice.none', 'Bedrock needs the tools when the conversation has tool calls; the model may still call one');
      else if (choice?.type === 'required') toolConfig.toolChoice = { any: {} };
      else if (choice?.type === 'tool') toolConfig.toolChoice = { tool: { name: choice.toolName } };
      else if (choice?.type === 'auto') toolConfig.toolChoice = { auto: {} };
      body.toolConfig = toolConfig;
    }
  } else if (choice !== undefined && choice.type !== 'none' && choice.type !== 'auto') {
    sink.unsupported('tool_choice', 'no tools were given');
  }
  if (req.parallelToolCalls === false) sink.unsupported('parallel_tool_calls');
  if (req.topK !== undefined) sink.unsupported('top_k', 'Converse has no common top_k; a model-specific field would be needed');
  if (req.seed !== undefined) sink.unsupported('seed');
  if (req.presencePenalty !== undefined) sink.unsupported('presence_penalty');
  if (req.frequencyPenalty !== undefined) sink.unsupported('frequency_penalty');
  if (req.choices !== undefined && req.choices !== 1) sink.unsupported('n', 'Bedrock answers one choice');
  if (req.user !== undefined) sink.unsupported('user');
  if (req.responseFormat?.type === 'json' || req.responseFormat?.type === 'json-schema') {
    sink.unsupported(`response_format.${req.responseFormat.type === 'json' ? 'json_object' : 'json_schema'}`, 'Converse has no JSON mode; the answer is not constrained to JSON');
  }
  if (req.reasoning?.budgetTokens !== undefined) {
    // Claude on Bedrock takes its thinking budget as a model-specific field.
    body.additionalModelRequestFields = { thinking: { type: 'enabled', budget_tokens: req.reasoning.budgetTokens } };
  } else if (req.reasoning?.effort !== undefined) sink.unsupported('reasoning_effort', 'Bedrock takes a thinking budget in tokens');
  const own = req.providerOptions?.bedrock;
  if (own) Object.assign(body, own);
  return { body, warnings: sink.warnings };
}

/** Converse's TokenUsage -> canonical. inputTokens excludes the cache reads and writes, which come beside it. */
export function canonicalUsageFromBedrock(u: unknown): CanonicalUsage | undefined {
  if (!isRecord(u) || (typeof u.inputTokens !== 'number' && typeof u.outputTokens !== 'number')) return undefined;
  const noCache = tokenCount(u.inputTokens);
  const cacheRead = tokenCount(u.cacheReadInputTokens);
  const cacheWrite = tokenCount(u.cacheWriteInputTokens);
  const output = tokenCount(u.outputTokens);
  return { input: { total: noCache + cacheRead + cacheWrite, noCache, cacheRead, cacheWrite }, output: { total: output, text: output, reasoning: 0 }, extra: {} };
}

/**
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_ResponseSyntax
 * (stopReason): Anthropic's stop reasons, plus Bedrock's guardrail ones.
 */
export function finishReasonFromBedrock(raw: string): FinishReason {
  return raw === 'guardrail_intervened' || raw === 'content_filtered' ? 'content-filter' : finishReasonFromAnthropic(raw);
}

function assistantContent(content: unknown): AssistantContentPart[] {
  if (!Array.isArray(content)) throw new Error('output.message.content is not an array');
  const out: AssistantContentPart[] = [];
  for (const b of content) {
    if (!isRecord(b)) throw new Error('a content block is not an object');
    if (typeof b.text === 'string') out.push({ type: 'text', text: b.text });
    else if (isRecord(b.toolUse)) {
      const t = b.toolUse;
      if (typeof t.toolUseId !== 'string' || typeof t.name !== 'string') throw new Error('toolUse has no toolUseId or name');
      out.push({ type: 'tool-call', toolCallId: t.toolUseId, toolName: t.name, input: JSON.stringify(t.input ?? {}) });
    } else if (isRecord(b.reasoningContent)) {
      const r = b.reasoningContent;
      if (isRecord(r.reasoningText) && typeof r.reasoningText.text === 'string') {
        out.push({ type: 'reasoning', text: r.reasoningText.text, ...(typeof r.reasoningText.signature === 'string' ? { signature: r.reasoningText.signature } : {}) });
      } else if (typeof r.redactedContent === 'string') out.push({ type: 'redacted-reasoning', data: r.redactedContent });
    }
    // Other blocks (citations, guardContent) have no canonical place.
  }
  return out;
}

/** A Converse answer -> canonical. Bedrock gives no message id or model in the body. */
export function chatResponseFromConverse(bytes: Uint8Array): Decoded<ChatResponse> {
  const body = jsonOrUndefined(bytes);
  try {
    if (!isRecord(body) || !isRecord(body.output) || !isRecord(body.output.message)) throw new Error('no output.message');
    const raw = typeof body.stopReason === 'string' ? body.stopReason : 'end_turn';
    const res: ChatResponse = { choices: [{ index: 0, content: assistantContent(body.output.message.content), finishReason: finishReasonFromBedrock(raw), rawFinishReason: raw }] };
    const usage = canonicalUsageFromBedrock(body.usage);
    if (usage) res.usage = usage;
    return { value: res };
  } catch (err) {
    return { error: adapterError('upstream_error', `the upstream answered a malformed Converse response: ${(err as Error).message}`) };
  }
}

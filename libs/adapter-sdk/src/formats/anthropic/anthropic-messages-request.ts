import type { CallWarning } from '../../adapter-v2.js';
import type {
  AssistantContentPart,
  ChatMessage,
  ChatRequest,
  FunctionTool,
  ImagePart,
  ProviderOptions,
  TextPart,
  ToolChoice,
  ToolResultPart,
  UserContentPart,
} from '../../canonical.js';
import { isRecord } from '../../error-helpers.js';
import { decodeClientRequest, InvalidClientRequest, WarningSink, type ClientRequestDecoded } from '../client-request.js';

/** Fields of a Messages request the canonical request carries; any other travels in providerOptions.anthropic. */
const MAPPED = new Set(['model', 'messages', 'system', 'max_tokens', 'stop_sequences', 'temperature', 'top_p', 'top_k', 'tools', 'tool_choice', 'thinking', 'stream', 'metadata', 'output_config']);

const str = (v: unknown, param: string): string => {
  if (typeof v !== 'string') throw new InvalidClientRequest(param, `${param}: must be a string`);
  return v;
};
const num = (v: unknown, param: string): number | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidClientRequest(param, `${param}: must be a number`);
  return v;
};

/** cache_control (and any other per-block field the canonical part has no place for) as anthropic options. */
function blockOptions(block: Record<string, unknown>, own: readonly string[]): ProviderOptions | undefined {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(block)) if (!own.includes(k) && k !== 'type' && v !== undefined) rest[k] = v;
  return Object.keys(rest).length > 0 ? { anthropic: rest } : undefined;
}

function withOptions<T extends object>(part: T, options: ProviderOptions | undefined): T {
  if (options) (part as { providerOptions?: ProviderOptions }).providerOptions = options;
  return part;
}

function image(b: Record<string, unknown>, param: string, sink: WarningSink): ImagePart | undefined {
  const s = isRecord(b.source) ? b.source : {};
  const options = blockOptions(b, ['source']);
  if (s.type === 'base64') return withOptions<ImagePart>({ type: 'image', source: { type: 'base64', mediaType: str(s.media_type, `${param}.source.media_type`), data: str(s.data, `${param}.source.data`) } }, options);
  if (s.type === 'url') return withOptions<ImagePart>({ type: 'image', source: { type: 'url', url: str(s.url, `${param}.source.url`) } }, options);
  sink.unsupported(`image.source.${String(s.type)}`, 'only base64 and url images can be translated');
  return undefined;
}

function textBlocks(content: unknown, param: string, sink: WarningSink): TextPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw new InvalidClientRequest(param, `${param}: must be a string or an array of blocks`);
  const out: TextPart[] = [];
  content.forEach((b, i) => {
    if (isRecord(b) && b.type === 'text') out.push(withOptions({ type: 'text', text: str(b.text, `${param}.${i}.text`) }, blockOptions(b, ['text'])));
    else sink.unsupported(`${param}.${isRecord(b) ? String(b.type) : 'block'}`, 'only text blocks are kept here');
  });
  return out;
}

function userMessage(content: unknown, param: string, sink: WarningSink): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content: [{ type: 'text', text: content }] }];
  if (!Array.isArray(content)) throw new InvalidClientRequest(`${param}.content`, `${param}.content: must be a string or an array of blocks`);
  const results: ToolResultPart[] = [];
  const parts: UserContentPart[] = [];
  content.forEach((b, i) => {
    const p = `${param}.content.${i}`;
    if (!isRecord(b)) throw new InvalidClientRequest(p, `${p}: must be an object`);
    if (b.type === 'text') parts.push(withOptions({ type: 'text', text: str(b.text, `${p}.text`) }, blockOptions(b, ['text'])));
    else if (b.type === 'image') {
      const img = image(b, p, sink);
      if (img) parts.push(img);
    } else if (b.type === 'tool_result') {
      const inner: Array<TextPart | ImagePart> = [];
      if (typeof b.content === 'string') inner.push({ type: 'text', text: b.content });
      else if (Array.isArray(b.content)) {
        b.content.forEach((c, j) => {
          if (isRecord(c) && c.type === 'text') inner.push({ type: 'text', text: str(c.text, `${p}.content.${j}.text`) });
          else if (isRecord(c) && c.type === 'image') {
            const img = image(c, `${p}.content.${j}`, sink);
            if (img) inner.push(img);
          } else sink.unsupported(`tool_result.content.${isRecord(c) ? String(c.type) : 'block'}`);
        });
      }
      const r: ToolResultPart = withOptions({ type: 'tool-result', toolCallId: str(b.tool_use_id, `${p}.tool_use_id`), content: inner }, blockOptions(b, ['tool_use_id', 'content', 'is_error']));
      if (b.is_error === true) r.isError = true;
      results.push(r);
    } else sink.unsupported(`messages.content.${String(b.type)}`, 'this block type cannot be translated');
  });
  // Tool results answer the previous assistant turn, so they come first, as their own message.
  const out: ChatMessage[] = [];
  if (results.length > 0) out.push({ role: 'tool', content: results });
  if (parts.length > 0) out.push({ role: 'user', content: parts });
  return out;
}

function assistantMessage(content: unknown, param: string, sink: WarningSink): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content: [{ type: 'text', text: content }] };
  if (!Array.isArray(content)) throw new InvalidClientRequest(`${param}.content`, `${param}.content: must be a string or an array of blocks`);
  const parts: AssistantContentPart[] = [];
  content.forEach((b, i) => {
    const p = `${param}.content.${i}`;
    if (!isRecord(b)) throw new InvalidClientRequest(p, `${p}: must be an object`);
    if (b.type === 'text') parts.push(withOptions({ type: 'text', text: str(b.text, `${p}.text`) }, blockOptions(b, ['text', 'citations'])));
    else if (b.type === 'thinking') parts.push({ type: 'reasoning', text: str(b.thinking, `${p}.thinking`), signature: str(b.signature, `${p}.signature`) });
    else if (b.type === 'redacted_thinking') parts.push({ type: 'redacted-reasoning', data: str(b.data, `${p}.data`) });
    else if (b.type === 'tool_use') {
      parts.push(withOptions({ type: 'tool-call', toolCallId: str(b.id, `${p}.id`), toolName: str(b.name, `${p}.name`), input: JSON.stringify(b.input ?? {}) }, blockOptions(b, ['id', 'name', 'input', 'caller'])));
    } else sink.unsupported(`messages.content.${String(b.type)}`, 'this block type cannot be translated');
  });
  return { role: 'assistant', content: parts };
}

function tools(v: unknown, sink: WarningSink): FunctionTool[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new InvalidClientRequest('tools', 'tools: must be an array');
  const out: FunctionTool[] = [];
  v.forEach((t, i) => {
    if (!isRecord(t)) throw new InvalidClientRequest(`tools.${i}`, `tools.${i}: must be an object`);
    // Server tools (web_search_20250305, bash_...) have a versioned type and run at Anthropic only.
    if (t.type !== undefined && t.type !== null && t.type !== 'custom') {
      sink.unsupported(`tools.${String(t.type)}`, 'an Anthropic server tool; only custom tools can be translated');
      return;
    }
    const tool: FunctionTool = withOptions(
      { type: 'function', name: str(t.name, `tools.${i}.name`), inputSchema: isRecord(t.input_schema) ? t.input_schema : { type: 'object', properties: {} } },
      blockOptions(t, ['name', 'description', 'input_schema', 'strict']),
    );
    if (typeof t.description === 'string') tool.description = t.description;
    if (typeof t.strict === 'boolean') tool.strict = t.strict;
    out.push(tool);
  });
  return out;
}

function toolChoice(v: unknown, req: ChatRequest): void {
  if (v === undefined || v === null) return;
  if (!isRecord(v)) throw new InvalidClientRequest('tool_choice', 'tool_choice: must be an object');
  let choice: ToolChoice;
  if (v.type === 'auto') choice = { type: 'auto' };
  else if (v.type === 'any') choice = { type: 'required' };
  else if (v.type === 'none') choice = { type: 'none' };
  else if (v.type === 'tool') choice = { type: 'tool', toolName: str(v.name, 'tool_choice.name') };
  else throw new InvalidClientRequest('tool_choice.type', 'tool_choice.type: must be auto, any, tool or none');
  req.toolChoice = choice;
  if (v.disable_parallel_tool_use === true) req.parallelToolCalls = false;
}

/** An Anthropic Messages request body (as a client sent it) -> canonical. */
export function chatRequestFromAnthropic(body: unknown): ClientRequestDecoded<ChatRequest> {
  return decodeClientRequest((warnings) => {
    if (!isRecord(body)) throw new InvalidClientRequest('body', 'body: must be a JSON object');
    const sink = new WarningSink(warnings);
    if (!Array.isArray(body.messages)) throw new InvalidClientRequest('messages', 'messages: Field required');
    const messages: ChatMessage[] = [];
    if (body.system !== undefined && body.system !== null) messages.push({ role: 'system', content: textBlocks(body.system, 'system', sink) });
    body.messages.forEach((m, i) => {
      const param = `messages.${i}`;
      if (!isRecord(m)) throw new InvalidClientRequest(param, `${param}: must be an object`);
      if (m.role === 'user') messages.push(...userMessage(m.content, param, sink));
      else if (m.role === 'assistant') messages.push(assistantMessage(m.content, param, sink));
      else throw new InvalidClientRequest(`${param}.role`, `${param}.role: must be user or assistant`);
    });
    const req: ChatRequest = { model: str(body.model, 'model'), messages, stream: body.stream === true, includeUsage: true };
    const maxTokens = num(body.max_tokens, 'max_tokens');
    if (maxTokens !== undefined) req.maxOutputTokens = maxTokens;
    const t = tools(body.tools, sink);
    if (t) req.tools = t;
    toolChoice(body.tool_choice, req);
    const set = <K extends keyof ChatRequest>(key: K, v: ChatRequest[K] | undefined): void => {
      if (v !== undefined) req[key] = v;
    };
    set('temperature', num(body.temperature, 'temperature'));
    set('topP', num(body.top_p, 'top_p'));
    set('topK', num(body.top_k, 'top_k'));
    if (Array.isArray(body.stop_sequences)) req.stopSequences = body.stop_sequences.map((s, i) => str(s, `stop_sequences.${i}`));
    if (isRecord(body.thinking) && body.thinking.type === 'enabled') req.reasoning = { budgetTokens: num(body.thinking.budget_tokens, 'thinking.budget_tokens') };
    const rest: Record<string, unknown> = {};
    if (isRecord(body.thinking) && body.thinking.type !== 'enabled') rest.thinking = body.thinking;
    if (isRecord(body.metadata)) {
      const { user_id: userId, ...other } = body.metadata;
      if (typeof userId === 'string') req.user = userId;
      if (Object.keys(other).length > 0) rest.metadata = other;
    }
    if (isRecord(body.output_config)) {
      const { format, ...other } = body.output_config;
      if (isRecord(format) && format.type === 'json_schema') set('responseFormat', { type: 'json-schema', schema: isRecord(format.schema) ? format.schema : {} });
      if (Object.keys(other).length > 0) rest.output_config = other;
    }
    for (const [k, v] of Object.entries(body)) if (!MAPPED.has(k)) rest[k] = v;
    if (Object.keys(rest).length > 0) req.providerOptions = { anthropic: rest };
    return req;
  });
}

export interface AnthropicMessagesRequestOptions {
  model: string;
  /** Anthropic requires max_tokens; used when the client gave none. */
  defaultMaxTokens: number;
}

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

type Block = Record<string, unknown>;

function own(options: ProviderOptions | undefined): Record<string, unknown> {
  return options?.anthropic ?? {};
}

function imageBlock(p: ImagePart, sink: WarningSink): Block | undefined {
  sink.foreignOptions(p.providerOptions, 'anthropic', 'content.');
  if (p.detail !== undefined) sink.unsupported('image_url.detail');
  if (p.source.type === 'url') return { type: 'image', source: { type: 'url', url: p.source.url }, ...own(p.providerOptions) };
  if (!IMAGE_TYPES.includes(p.source.mediaType)) {
    sink.unsupported(`image.${p.source.mediaType}`, `Anthropic accepts ${IMAGE_TYPES.join(', ')}; the image is left out`);
    return undefined;
  }
  return { type: 'image', source: { type: 'base64', media_type: p.source.mediaType, data: p.source.data }, ...own(p.providerOptions) };
}

function textBlock(p: TextPart, sink: WarningSink): Block {
  sink.foreignOptions(p.providerOptions, 'anthropic', 'content.');
  return { type: 'text', text: p.text, ...own(p.providerOptions) };
}

/** A tool call's arguments (JSON text) as the object providers with typed tool input take; {} with a warning when they are not one. */
export function parseToolInput(input: string, sink: WarningSink): Record<string, unknown> {
  if (input.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(input);
    if (isRecord(v)) return v;
  } catch {
    // fall through
  }
  sink.other('a tool call in the history had arguments that are not a JSON object; sent as {}');
  return {};
}

/**
 * Anthropic wants alternating user and assistant turns with a leading system prompt; tool results are
 * user content. Consecutive messages of one role are merged into one turn.
 */
function anthropicMessages(messages: ChatMessage[], sink: WarningSink): { system: Block[]; messages: Array<{ role: 'user' | 'assistant'; content: Block[] }> } {
  const system: Block[] = [];
  const out: Array<{ role: 'user' | 'assistant'; content: Block[] }> = [];
  let current: ChatMessage | undefined;
  const push = (role: 'user' | 'assistant', blocks: Block[]): void => {
    if (blocks.length === 0) return;
    // cache_control on a whole message (the LiteLLM convention for OpenAI-format bodies) marks its last block.
    const cacheControl = current?.providerOptions?.anthropic?.cache_control;
    if (cacheControl !== undefined) blocks[blocks.length - 1] = { ...blocks[blocks.length - 1], cache_control: cacheControl };
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const m of messages) {
    current = m;
    sink.foreignOptions(m.providerOptions, 'anthropic', 'messages.');
    for (const key of Object.keys(m.providerOptions?.anthropic ?? {})) if (key !== 'cache_control') sink.unsupported(`messages.${key}`);
    switch (m.role) {
      case 'system': {
        if (out.length > 0) sink.other('a system message after the conversation started was moved to the system prompt');
        const blocks = m.content.map((p) => textBlock(p, sink));
        const cacheControl = m.providerOptions?.anthropic?.cache_control;
        if (cacheControl !== undefined && blocks.length > 0) blocks[blocks.length - 1] = { ...blocks[blocks.length - 1], cache_control: cacheControl };
        system.push(...blocks);
        break;
      }
      case 'user':
        push('user', m.content.map((p) => (p.type === 'text' ? textBlock(p, sink) : imageBlock(p, sink))).filter((b): b is Block => b !== undefined));
        break;
      case 'tool':
        push(
          'user',
          m.content.map((r) => {
            sink.foreignOptions(r.providerOptions, 'anthropic', 'content.');
            const content = r.content.map((p) => (p.type === 'text' ? textBlock(p, sink) : imageBlock(p, sink))).filter((b): b is Block => b !== undefined);
            return { type: 'tool_result', tool_use_id: r.toolCallId, content, ...(r.isError ? { is_error: true } : {}), ...own(r.providerOptions) };
          }),
        );
        break;
      case 'assistant': {
        const blocks: Block[] = [];
        for (const p of m.content) {
          if (p.type === 'text') {
            if (p.text.length > 0) blocks.push(textBlock(p, sink));
          } else if (p.type === 'reasoning') {
            // Anthropic only takes back thinking it signed itself.
            if (p.signature !== undefined) blocks.push({ type: 'thinking', thinking: p.text, signature: p.signature });
            else sink.unsupported('messages.reasoning', 'reasoning without an Anthropic signature is left out of the history');
          } else if (p.type === 'redacted-reasoning') blocks.push({ type: 'redacted_thinking', data: p.data });
          else {
            sink.foreignOptions(p.providerOptions, 'anthropic', 'content.');
            blocks.push({ type: 'tool_use', id: p.toolCallId, name: p.toolName, input: parseToolInput(p.input, sink), ...own(p.providerOptions) });
          }
        }
        push('assistant', blocks);
        break;
      }
    }
  }
  return { system, messages: out };
}

/** Canonical -> an Anthropic Messages request body for an upstream. */
export function anthropicMessagesRequestFromCanonical(req: ChatRequest, options: AnthropicMessagesRequestOptions): { body: Record<string, unknown>; warnings: CallWarning[] } {
  const sink = new WarningSink();
  sink.foreignOptions(req.providerOptions, 'anthropic');
  const { system, messages } = anthropicMessages(req.messages, sink);
  const body: Record<string, unknown> = { ...own(req.providerOptions), model: options.model, max_tokens: req.maxOutputTokens ?? options.defaultMaxTokens, messages };
  if (system.length > 0) body.system = system.every((b) => Object.keys(b).length === 2) ? system.map((b) => b.text).join('\n\n') : system;
  if (req.tools && req.tools.length > 0) {
    body.tools = req.tools.map((t) => {
      sink.foreignOptions(t.providerOptions, 'anthropic', 'tools.');
      const tool: Block = { name: t.name, input_schema: t.inputSchema, ...own(t.providerOptions) };
      if (t.description !== undefined) tool.description = t.description;
      if (t.strict !== undefined) tool.strict = t.strict;
      return tool;
    });
  }
  // Anthropic refuses tool_choice without tools.
  if (body.tools !== undefined && (req.toolChoice || req.parallelToolCalls === false)) {
    const c = req.toolChoice ?? { type: 'auto' };
    const choice: Block = c.type === 'required' ? { type: 'any' } : c.type === 'tool' ? { type: 'tool', name: c.toolName } : { type: c.type };
    if (req.parallelToolCalls === false && c.type !== 'none') choice.disable_parallel_tool_use = true;
    body.tool_choice = choice;
  }
  if (req.temperature !== undefined) {
    // OpenAI's range is 0-2, Anthropic's 0-1.
    if (req.temperature > 1) sink.unsupported('temperature', `${req.temperature} is above Anthropic's maximum of 1; sent as 1`);
    body.temperature = Math.min(req.temperature, 1);
  }
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.topK !== undefined) body.top_k = req.topK;
  if (req.stopSequences !== undefined && req.stopSequences.length > 0) body.stop_sequences = req.stopSequences;
  if (req.seed !== undefined) sink.unsupported('seed');
  if (req.presencePenalty !== undefined) sink.unsupported('presence_penalty');
  if (req.frequencyPenalty !== undefined) sink.unsupported('frequency_penalty');
  if (req.choices !== undefined && req.choices !== 1) sink.unsupported('n', 'Anthropic answers one choice');
  if (req.user !== undefined) body.metadata = { ...(isRecord(body.metadata) ? body.metadata : {}), user_id: req.user };
  if (req.responseFormat?.type === 'json-schema') {
    body.output_config = { ...(isRecord(body.output_config) ? body.output_config : {}), format: { type: 'json_schema', schema: req.responseFormat.schema } };
  } else if (req.responseFormat?.type === 'json') sink.unsupported('response_format.json_object', 'Anthropic needs a JSON schema for structured output');
  if (req.reasoning?.budgetTokens !== undefined) body.thinking = { type: 'enabled', budget_tokens: req.reasoning.budgetTokens };
  else if (req.reasoning?.effort !== undefined) sink.unsupported('reasoning_effort', 'Anthropic takes a thinking budget in tokens');
  if (req.stream) body.stream = true;
  return { body, warnings: sink.warnings };
}

import type { CallWarning } from '../../adapter-v2.js';
import type {
  AssistantContentPart,
  ChatMessage,
  ChatRequest,
  FunctionTool,
  ImagePart,
  ProviderOptions,
  ResponseFormat,
  TextPart,
  ToolChoice,
  ToolResultPart,
  UserContentPart,
} from '../../canonical.js';
import { isRecord } from '../../error-helpers.js';
import { decodeClientRequest, InvalidClientRequest, WarningSink, type ClientRequestDecoded } from '../client-request.js';

/** The fields of a chat.completions body the canonical request carries; any other travels in providerOptions.openai. */
const MAPPED = new Set([
  'model', 'messages', 'tools', 'tool_choice', 'parallel_tool_calls', 'temperature', 'top_p', 'max_tokens', 'max_completion_tokens',
  'stop', 'seed', 'presence_penalty', 'frequency_penalty', 'n', 'user', 'response_format', 'reasoning_effort', 'stream', 'stream_options',
]);

const str = (v: unknown, param: string): string => {
  if (typeof v !== 'string') throw new InvalidClientRequest(param, `${param} must be a string.`);
  return v;
};
const num = (v: unknown, param: string): number | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidClientRequest(param, `${param} must be a number.`);
  return v;
};

/** `data:image/png;base64,AAAA` -> base64 source; any other URL stays a URL. */
export function imageSourceFromUrl(url: string): ImagePart['source'] {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return m ? { type: 'base64', mediaType: m[1], data: m[2] } : { type: 'url', url };
}

/**
 * Fields of a message or part beyond those canonical has, kept for the way back. `cache_control` on an
 * OpenAI-format part is the convention LiteLLM and OpenRouter use for Anthropic prompt caching, so it
 * becomes the Anthropic option it means.
 */
function extraOptions(o: Record<string, unknown>, known: readonly string[]): ProviderOptions | undefined {
  const openai: Record<string, unknown> = {};
  const anthropic: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (known.includes(k) || v === undefined) continue;
    if (k === 'cache_control') anthropic[k] = v;
    else openai[k] = v;
  }
  const out: ProviderOptions = {};
  if (Object.keys(openai).length > 0) out.openai = openai;
  if (Object.keys(anthropic).length > 0) out.anthropic = anthropic;
  return Object.keys(out).length > 0 ? out : undefined;
}

function textPart(text: string, o: Record<string, unknown>, known: readonly string[]): TextPart {
  const part: TextPart = { type: 'text', text };
  const options = extraOptions(o, known);
  if (options) part.providerOptions = options;
  return part;
}

function textParts(content: unknown, param: string, sink: WarningSink): TextPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw new InvalidClientRequest(param, `${param} must be a string or an array of content parts.`);
  const out: TextPart[] = [];
  content.forEach((p, i) => {
    if (isRecord(p) && p.type === 'text') out.push(textPart(str(p.text, `${param}[${i}].text`), p, ['type', 'text']));
    else if (isRecord(p) && p.type === 'refusal') out.push({ type: 'text', text: str(p.refusal, `${param}[${i}].refusal`) });
    else sink.unsupported(`${param}[].${isRecord(p) ? String(p.type) : 'part'}`, 'only text parts are kept here');
  });
  return out;
}

function userParts(content: unknown, param: string, sink: WarningSink): UserContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw new InvalidClientRequest(param, `${param} must be a string or an array of content parts.`);
  const out: UserContentPart[] = [];
  content.forEach((p, i) => {
    if (!isRecord(p)) throw new InvalidClientRequest(`${param}[${i}]`, 'a content part must be an object.');
    if (p.type === 'text') out.push(textPart(str(p.text, `${param}[${i}].text`), p, ['type', 'text']));
    else if (p.type === 'image_url') {
      const image = isRecord(p.image_url) ? p.image_url : {};
      const part: ImagePart = { type: 'image', source: imageSourceFromUrl(str(image.url, `${param}[${i}].image_url.url`)) };
      if (image.detail === 'auto' || image.detail === 'low' || image.detail === 'high') part.detail = image.detail;
      const options = extraOptions(p, ['type', 'image_url']);
      if (options) part.providerOptions = options;
      out.push(part);
    } else sink.unsupported(`messages[].content[].${String(p.type)}`, 'this content part type cannot be translated');
  });
  return out;
}

function assistantParts(m: Record<string, unknown>, param: string, sink: WarningSink): AssistantContentPart[] {
  const out: AssistantContentPart[] = [];
  if (m.content !== undefined && m.content !== null) out.push(...textParts(m.content, `${param}.content`, sink));
  if (typeof m.refusal === 'string' && m.refusal.length > 0 && out.length === 0) out.push({ type: 'text', text: m.refusal });
  if (Array.isArray(m.tool_calls)) {
    m.tool_calls.forEach((c, i) => {
      const p = `${param}.tool_calls[${i}]`;
      if (!isRecord(c) || !isRecord(c.function)) throw new InvalidClientRequest(p, 'a tool call must have a function.');
      out.push({ type: 'tool-call', toolCallId: str(c.id, `${p}.id`), toolName: str(c.function.name, `${p}.function.name`), input: str(c.function.arguments, `${p}.function.arguments`) });
    });
  }
  if (m.function_call !== undefined && m.function_call !== null) sink.unsupported('messages[].function_call', 'the deprecated function_call; use tool_calls');
  return out;
}

const MESSAGE_FIELDS = ['role', 'content', 'tool_calls', 'tool_call_id', 'refusal', 'function_call'];

/** Message fields canonical has no name for (a participant `name`...), kept for the way back to OpenAI. */
function withMessageOptions<M extends ChatMessage>(msg: M, m: Record<string, unknown>): M {
  const extra = extraOptions(m, MESSAGE_FIELDS);
  if (!extra) return msg;
  const openai = { ...extra.openai, ...msg.providerOptions?.openai };
  msg.providerOptions = { ...extra, ...(Object.keys(openai).length > 0 ? { openai } : {}) };
  return msg;
}

function message(m: unknown, i: number, sink: WarningSink): ChatMessage | undefined {
  const param = `messages[${i}]`;
  if (!isRecord(m)) throw new InvalidClientRequest(param, 'a message must be an object.');
  switch (m.role) {
    case 'system':
      return withMessageOptions({ role: 'system', content: textParts(m.content, `${param}.content`, sink) }, m);
    case 'developer':
      // Kept as a system message; the OpenAI encoder restores the role.
      return withMessageOptions({ role: 'system', content: textParts(m.content, `${param}.content`, sink), providerOptions: { openai: { role: 'developer' } } }, m);
    case 'user':
      return withMessageOptions({ role: 'user', content: userParts(m.content, `${param}.content`, sink) }, m);
    case 'assistant':
      return withMessageOptions({ role: 'assistant', content: assistantParts(m, param, sink) }, m);
    case 'tool': {
      const content = typeof m.content === 'string' ? [{ type: 'text' as const, text: m.content }] : textParts(m.content, `${param}.content`, sink);
      const result: ToolResultPart = { type: 'tool-result', toolCallId: str(m.tool_call_id, `${param}.tool_call_id`), content };
      const options = extraOptions(m, MESSAGE_FIELDS);
      if (options) result.providerOptions = options;
      return { role: 'tool', content: [result] };
    }
    case 'function':
      sink.unsupported('messages[].role=function', 'the deprecated function role; use tool messages');
      return undefined;
    default:
      throw new InvalidClientRequest(`${param}.role`, `unknown role ${JSON.stringify(m.role)}.`);
  }
}

function tools(v: unknown, sink: WarningSink): FunctionTool[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new InvalidClientRequest('tools', 'tools must be an array.');
  const out: FunctionTool[] = [];
  v.forEach((t, i) => {
    if (!isRecord(t) || t.type !== 'function' || !isRecord(t.function)) {
      sink.unsupported(`tools[].${isRecord(t) ? String(t.type) : 'tool'}`, 'only function tools can be translated');
      return;
    }
    const f = t.function;
    const tool: FunctionTool = { type: 'function', name: str(f.name, `tools[${i}].function.name`), inputSchema: isRecord(f.parameters) ? f.parameters : { type: 'object', properties: {} } };
    if (typeof f.description === 'string') tool.description = f.description;
    if (typeof f.strict === 'boolean') tool.strict = f.strict;
    out.push(tool);
  });
  return out;
}

function toolChoice(v: unknown): ToolChoice | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === 'auto' || v === 'none' || v === 'required') return { type: v };
  if (isRecord(v) && v.type === 'function' && isRecord(v.function) && typeof v.function.name === 'string') return { type: 'tool', toolName: v.function.name };
  throw new InvalidClientRequest('tool_choice', 'tool_choice must be auto, none, required or a function.');
}

function responseFormat(v: unknown): ResponseFormat | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) throw new InvalidClientRequest('response_format', 'response_format must be an object.');
  if (v.type === 'text') return { type: 'text' };
  if (v.type === 'json_object') return { type: 'json' };
  if (v.type === 'json_schema' && isRecord(v.json_schema)) {
    const s = v.json_schema;
    const out: ResponseFormat = { type: 'json-schema', schema: isRecord(s.schema) ? s.schema : {} };
    if (typeof s.name === 'string') out.name = s.name;
    if (typeof s.description === 'string') out.description = s.description;
    if (typeof s.strict === 'boolean') out.strict = s.strict;
    return out;
  }
  throw new InvalidClientRequest('response_format.type', 'response_format.type must be text, json_object or json_schema.');
}

/** An OpenAI chat.completions request body (as a client sent it) -> canonical. */
export function chatRequestFromOpenAI(body: unknown): ClientRequestDecoded<ChatRequest> {
  return decodeClientRequest((warnings) => {
    if (!isRecord(body)) throw new InvalidClientRequest('body', 'The request body must be a JSON object.');
    const sink = new WarningSink(warnings);
    if (!Array.isArray(body.messages)) throw new InvalidClientRequest('messages', 'messages must be an array.');
    const messages = body.messages.map((m, i) => message(m, i, sink)).filter((m): m is ChatMessage => m !== undefined);
    const streamOptions = isRecord(body.stream_options) ? body.stream_options : {};
    const req: ChatRequest = {
      model: str(body.model, 'model'),
      messages,
      stream: body.stream === true,
      includeUsage: streamOptions.include_usage === true,
    };
    const t = tools(body.tools, sink);
    if (t) req.tools = t;
    const tc = toolChoice(body.tool_choice);
    if (tc) req.toolChoice = tc;
    if (typeof body.parallel_tool_calls === 'boolean') req.parallelToolCalls = body.parallel_tool_calls;
    const set = <K extends keyof ChatRequest>(key: K, v: ChatRequest[K] | undefined): void => {
      if (v !== undefined) req[key] = v;
    };
    set('temperature', num(body.temperature, 'temperature'));
    set('topP', num(body.top_p, 'top_p'));
    set('maxOutputTokens', num(body.max_completion_tokens, 'max_completion_tokens') ?? num(body.max_tokens, 'max_tokens'));
    set('seed', num(body.seed, 'seed'));
    set('presencePenalty', num(body.presence_penalty, 'presence_penalty'));
    set('frequencyPenalty', num(body.frequency_penalty, 'frequency_penalty'));
    set('choices', num(body.n, 'n'));
    if (typeof body.user === 'string') req.user = body.user;
    if (typeof body.stop === 'string') req.stopSequences = [body.stop];
    else if (Array.isArray(body.stop)) req.stopSequences = body.stop.map((s, i) => str(s, `stop[${i}]`));
    set('responseFormat', responseFormat(body.response_format));
    if (typeof body.reasoning_effort === 'string') {
      const e = body.reasoning_effort;
      if (e === 'minimal' || e === 'low' || e === 'medium' || e === 'high') req.reasoning = { effort: e };
      else sink.unsupported('reasoning_effort', `the value ${e}`);
    }
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) if (!MAPPED.has(k)) rest[k] = v;
    if (Object.keys(rest).length > 0) req.providerOptions = { openai: rest };
    return req;
  });
}

export interface OpenAIChatRequestOptions {
  /** The model name the upstream knows. */
  model: string;
  /**
   * OpenAI deprecated `max_tokens` for `max_completion_tokens` (its reasoning models refuse the old
   * one); most OpenAI-compatible servers (vLLM, Ollama) still read only `max_tokens`.
   */
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
}

function openAIContentPart(p: UserContentPart): Record<string, unknown> {
  const own = p.providerOptions?.openai ?? {};
  if (p.type === 'text') return { ...own, type: 'text', text: p.text };
  const url = p.source.type === 'url' ? p.source.url : `data:${p.source.mediaType};base64,${p.source.data}`;
  return { ...own, type: 'image_url', image_url: p.detail ? { url, detail: p.detail } : { url } };
}

/** Text as a plain string when nothing rides on its parts, else as text parts. */
function openAIText(parts: TextPart[], separator: string): string | Record<string, unknown>[] {
  return parts.some((p) => p.providerOptions?.openai) ? parts.map(openAIContentPart) : parts.map((p) => p.text).join(separator);
}

function partOptions(parts: ReadonlyArray<{ providerOptions?: ProviderOptions }>, sink: WarningSink): void {
  for (const p of parts) sink.foreignOptions(p.providerOptions, 'openai', 'messages[].content[].');
}

function openAIMessages(messages: ChatMessage[], sink: WarningSink): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const m of messages) {
    sink.foreignOptions(m.providerOptions, 'openai', 'messages[].');
    const own = m.providerOptions?.openai ?? {};
    switch (m.role) {
      case 'system':
        partOptions(m.content, sink);
        out.push({ ...own, role: own.role === 'developer' ? 'developer' : 'system', content: openAIText(m.content, '\n\n') });
        break;
      case 'user':
        partOptions(m.content, sink);
        out.push({ ...own, role: 'user', content: m.content.length === 1 && m.content[0].type === 'text' && !m.content[0].providerOptions?.openai ? m.content[0].text : m.content.map(openAIContentPart) });
        break;
      case 'assistant': {
        partOptions(m.content, sink);
        const text = m.content.filter((p): p is TextPart => p.type === 'text').map((p) => p.text).join('');
        const calls = m.content.filter((p) => p.type === 'tool-call');
        if (m.content.some((p) => p.type === 'reasoning' || p.type === 'redacted-reasoning')) {
          sink.unsupported('messages[].reasoning', 'reasoning in the conversation history is not sent: the Chat Completions format has no place for it');
        }
        const msg: Record<string, unknown> = { ...own, role: 'assistant', content: text.length > 0 || calls.length === 0 ? text : null };
        if (calls.length > 0) msg.tool_calls = calls.map((c) => ({ id: c.toolCallId, type: 'function', function: { name: c.toolName, arguments: c.input } }));
        out.push(msg);
        break;
      }
      case 'tool':
        for (const r of m.content) {
          sink.foreignOptions(r.providerOptions, 'openai', 'messages[].content[].');
          if (r.content.some((p) => p.type === 'image')) sink.unsupported('tool_result.image', 'a tool message carries text only; the images are left out');
          if (r.isError) sink.unsupported('tool_result.is_error', 'a tool message cannot mark an error');
          const texts = r.content.filter((p): p is TextPart => p.type === 'text');
          out.push({ ...(r.providerOptions?.openai ?? {}), role: 'tool', tool_call_id: r.toolCallId, content: texts.length === 1 && !texts[0].providerOptions?.openai ? texts[0].text : texts.map(openAIContentPart) });
        }
        break;
    }
  }
  return out;
}

/** Canonical -> an OpenAI chat.completions request body for an upstream. Streams always ask for usage. */
export function openAIChatRequestFromCanonical(req: ChatRequest, options: OpenAIChatRequestOptions): { body: Record<string, unknown>; warnings: CallWarning[] } {
  const sink = new WarningSink();
  // Unknown OpenAI fields the client sent (logit_bias, logprobs, store...) go back as they came.
  const body: Record<string, unknown> = { ...(req.providerOptions?.openai ?? {}) };
  sink.foreignOptions(req.providerOptions, 'openai');
  body.model = options.model;
  body.messages = openAIMessages(req.messages, sink);
  if (req.tools && req.tools.length > 0) {
    body.tools = req.tools.map((t) => {
      sink.foreignOptions(t.providerOptions, 'openai', 'tools[].');
      const fn: Record<string, unknown> = { name: t.name, parameters: t.inputSchema };
      if (t.description !== undefined) fn.description = t.description;
      if (t.strict !== undefined) fn.strict = t.strict;
      return { type: 'function', function: fn };
    });
  }
  // OpenAI refuses tool_choice and parallel_tool_calls without tools.
  if (body.tools !== undefined) {
    if (req.toolChoice) body.tool_choice = req.toolChoice.type === 'tool' ? { type: 'function', function: { name: req.toolChoice.toolName } } : req.toolChoice.type;
    if (req.parallelToolCalls !== undefined) body.parallel_tool_calls = req.parallelToolCalls;
  }
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.topK !== undefined) sink.unsupported('top_k');
  if (req.maxOutputTokens !== undefined) body[options.maxTokensField] = req.maxOutputTokens;
  if (req.stopSequences !== undefined) body.stop = req.stopSequences;
  if (req.seed !== undefined) body.seed = req.seed;
  if (req.presencePenalty !== undefined) body.presence_penalty = req.presencePenalty;
  if (req.frequencyPenalty !== undefined) body.frequency_penalty = req.frequencyPenalty;
  if (req.choices !== undefined) body.n = req.choices;
  if (req.user !== undefined) body.user = req.user;
  if (req.responseFormat) {
    const f = req.responseFormat;
    if (f.type === 'text') body.response_format = { type: 'text' };
    else if (f.type === 'json') body.response_format = { type: 'json_object' };
    else {
      const js: Record<string, unknown> = { name: f.name ?? 'response', schema: f.schema };
      if (f.description !== undefined) js.description = f.description;
      if (f.strict !== undefined) js.strict = f.strict;
      body.response_format = { type: 'json_schema', json_schema: js };
    }
  }
  if (req.reasoning?.effort !== undefined) body.reasoning_effort = req.reasoning.effort;
  if (req.reasoning?.budgetTokens !== undefined) sink.unsupported('thinking.budget_tokens', 'OpenAI takes a reasoning effort, not a token budget');
  if (req.stream) {
    body.stream = true;
    // Usage arrives only in a final chunk, and only when asked for: always ask, so every stream is metered.
    const asked = isRecord(body.stream_options) ? body.stream_options : {};
    body.stream_options = { ...asked, include_usage: true };
  } else {
    delete body.stream;
    delete body.stream_options;
  }
  return { body, warnings: sink.warnings };
}

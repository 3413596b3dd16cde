import {
  InvalidClientRequest,
  isRecord,
  WarningSink,
  type AssistantContentPart,
  type CallWarning,
  type ChatMessage,
  type ChatRequest,
  type EmbeddingRequest,
  type ImagePart,
  type TextPart,
  type ToolResultPart,
} from '#libs/adapter-sdk';

/**
 * Canonical requests -> Gemini's GenerateContentRequest, shared by Google AI Studio and Vertex AI
 * (the same model API: https://ai.google.dev/api/generate-content#request-body and
 * https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/projects.locations.publishers.models/generateContent).
 */

/** The key under which a canonical request carries Gemini-only fields (providerOptions.gemini). */
export const GEMINI_FORMAT = 'gemini';

export type GeminiPart =
  | { text: string; thought?: boolean }
  | { inlineData: { mimeType: string; data: string } }
  | { fileData: { mimeType: string; fileUri: string } }
  | { functionCall: { name: string; args: Record<string, unknown>; id?: string }; thoughtSignature?: string }
  | { functionResponse: { name: string; response: Record<string, unknown>; id?: string } };

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

/**
 * JSON Schema keywords Gemini's OpenAPI-subset Schema refuses (responseSchema, function parameters):
 * https://ai.google.dev/api/caching#Schema. OpenAI strict schemas carry additionalProperties: false.
 */
const SCHEMA_KEYWORDS_REFUSED = new Set(['$schema', '$id', '$ref', '$defs', 'definitions', 'additionalProperties', 'strict', 'const', 'examples', 'patternProperties', 'unevaluatedProperties']);

/**
 * A JSON Schema as Gemini's Schema object takes it, recursively: refused keywords left out, and a
 * nullable type written the JSON Schema way (`["string", "null"]`) as Gemini's `nullable`.
 */
export function geminiSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(geminiSchema);
  if (!isRecord(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (SCHEMA_KEYWORDS_REFUSED.has(k)) continue;
    if (k === 'type' && Array.isArray(v)) {
      const types = v.filter((t) => t !== 'null');
      if (types.length !== v.length) out.nullable = true;
      out.type = types.length === 1 ? types[0] : types;
      continue;
    }
    // `properties` maps names to schemas: its keys are property names, not keywords.
    if (k === 'properties' && isRecord(v)) out[k] = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, geminiSchema(s)]));
    else out[k] = isRecord(v) || Array.isArray(v) ? geminiSchema(v) : v;
  }
  return out;
}

const IMAGE_TYPES: Readonly<Record<string, string>> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', heic: 'image/heic', heif: 'image/heif' };

function imagePart(p: ImagePart, sink: WarningSink): GeminiPart {
  if (p.source.type === 'base64') return { inlineData: { mimeType: p.source.mediaType, data: p.source.data } };
  // Gemini does not fetch arbitrary URLs as inline images; fileData takes gs:// and https URIs (Vertex) and File API URIs (AI Studio).
  const ext = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(p.source.url)?.[1]?.toLowerCase();
  const mimeType = (ext && IMAGE_TYPES[ext]) ?? 'image/jpeg';
  if (!ext || !IMAGE_TYPES[ext]) sink.other(`image URL ${p.source.url.slice(0, 80)}: media type unknown, sent as fileData with image/jpeg`);
  if (p.detail !== undefined) sink.unsupported('image_url.detail');
  return { fileData: { mimeType, fileUri: p.source.url } };
}

function text(p: TextPart): GeminiPart {
  return { text: p.text };
}

/** A tool call's arguments as the object Gemini wants; a model's non-JSON text is kept as one field. */
function args(input: string): Record<string, unknown> {
  if (input.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(input);
    return isRecord(parsed) ? parsed : { value: parsed };
  } catch {
    return { _raw_arguments: input };
  }
}

/** A tool result as functionResponse.response (a Struct): a JSON object as is, anything else under `content`. */
function functionResponse(r: ToolResultPart, name: string, sink: WarningSink): GeminiPart {
  const texts = r.content.filter((c): c is TextPart => c.type === 'text').map((c) => c.text);
  if (r.content.some((c) => c.type === 'image')) sink.unsupported('tool_result.image', 'Gemini function responses carry JSON only');
  const joined = texts.join('\n');
  let response: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(joined);
    response = isRecord(parsed) ? parsed : { content: parsed };
  } catch {
    response = { content: joined };
  }
  if (r.isError) response = { error: response };
  return { functionResponse: { name, response } };
}

/** Where a tool call's id carries the thought signature of its function call (gemini-response.ts callId). */
export const SIGNATURE_MARK = '_ts_';
/**
 * Google's documented stand-in for a function call that has no signature (a conversation begun with
 * another model or client), which Gemini 3 otherwise refuses; earlier models ignore it.
 */
const NO_SIGNATURE = 'skip_thought_signature_validator';

/** The thought signature a tool call's id carries, back in base64. */
export function thoughtSignatureOf(toolCallId: string): string | undefined {
  const at = toolCallId.lastIndexOf(SIGNATURE_MARK);
  if (at === -1) return undefined;
  const encoded = toolCallId.slice(at + SIGNATURE_MARK.length);
  return /^[A-Za-z0-9_-]+$/.test(encoded) ? Buffer.from(encoded, 'base64url').toString('base64') : undefined;
}

function assistantParts(content: AssistantContentPart[], names: Map<string, string>): GeminiPart[] {
  const parts: GeminiPart[] = [];
  for (const p of content) {
    if (p.type === 'text') parts.push(text(p));
    else if (p.type === 'tool-call') {
      names.set(p.toolCallId, p.toolName);
      parts.push({ functionCall: { name: p.toolName, args: args(p.input) }, thoughtSignature: thoughtSignatureOf(p.toolCallId) ?? NO_SIGNATURE });
    }
    // Reasoning shown by a model (another provider's, or Gemini's summary) is not sent back: Gemini
    // keeps its own thoughts through thoughtSignature, which no canonical part carries.
  }
  return parts;
}

/** systemInstruction and contents: roles user/model, tool results as functionResponse parts in a user turn, adjacent turns of one role merged. */
export function geminiContents(messages: readonly ChatMessage[], sink: WarningSink): { systemInstruction?: { parts: GeminiPart[] }; contents: GeminiContent[] } {
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  // Gemini's functionResponse names the function, not the call: remember each call's name.
  const names = new Map<string, string>();
  const push = (role: GeminiContent['role'], parts: GeminiPart[]): void => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  for (const m of messages) {
    switch (m.role) {
      case 'system':
        system.push(...m.content.map(text));
        break;
      case 'user':
        push('user', m.content.map((p) => (p.type === 'text' ? text(p) : imagePart(p, sink))));
        break;
      case 'assistant':
        push('model', assistantParts(m.content, names));
        break;
      case 'tool':
        push('user', m.content.map((r) => functionResponse(r, names.get(r.toolCallId) ?? r.toolCallId, sink)));
        break;
    }
  }
  return system.length > 0 ? { systemInstruction: { parts: system }, contents } : { contents };
}

/** minimal has no budget of its own there: the smallest every thinking model takes (2.5 Pro cannot think 0). */
const THINKING_BUDGET_OF_EFFORT: Readonly<Record<'minimal' | 'low' | 'medium' | 'high', number>> = { minimal: 1024, low: 1024, medium: 8192, high: 24576 };

/** A canonical chat request -> Gemini's GenerateContentRequest body. */
export function geminiRequestFromCanonical(req: ChatRequest): { body: Record<string, unknown>; warnings: CallWarning[] } {
  const sink = new WarningSink();
  sink.foreignOptions(req.providerOptions, GEMINI_FORMAT);
  const body: Record<string, unknown> = { ...geminiContents(req.messages, sink) };
  if (req.tools && req.tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: req.tools.map((t) => {
          sink.foreignOptions(t.providerOptions, GEMINI_FORMAT, 'tools.');
          const declaration: Record<string, unknown> = { name: t.name, parameters: geminiSchema(t.inputSchema) };
          if (t.description !== undefined) declaration.description = t.description;
          return declaration;
        }),
      },
    ];
    if (req.toolChoice) {
      const c = req.toolChoice;
      // https://ai.google.dev/api/caching#FunctionCallingConfig
      const config: Record<string, unknown> =
        c.type === 'auto' ? { mode: 'AUTO' } : c.type === 'none' ? { mode: 'NONE' } : c.type === 'required' ? { mode: 'ANY' } : { mode: 'ANY', allowedFunctionNames: [c.toolName] };
      body.toolConfig = { functionCallingConfig: config };
    }
  } else if (req.toolChoice && req.toolChoice.type !== 'none' && req.toolChoice.type !== 'auto') sink.unsupported('tool_choice', 'no tools were given');
  if (req.parallelToolCalls === false) sink.unsupported('parallel_tool_calls', 'Gemini decides how many functions to call');
  const generationConfig: Record<string, unknown> = {};
  if (req.temperature !== undefined) generationConfig.temperature = req.temperature;
  if (req.topP !== undefined) generationConfig.topP = req.topP;
  if (req.topK !== undefined) generationConfig.topK = req.topK;
  if (req.maxOutputTokens !== undefined) generationConfig.maxOutputTokens = req.maxOutputTokens;
  if (req.stopSequences !== undefined && req.stopSequences.length > 0) generationConfig.stopSequences = req.stopSequences;
  if (req.choices !== undefined && req.choices !== 1) generationConfig.candidateCount = req.choices;
  if (req.seed !== undefined) generationConfig.seed = req.seed;
  if (req.presencePenalty !== undefined) generationConfig.presencePenalty = req.presencePenalty;
  if (req.frequencyPenalty !== undefined) generationConfig.frequencyPenalty = req.frequencyPenalty;
  if (req.responseFormat?.type === 'json') generationConfig.responseMimeType = 'application/json';
  else if (req.responseFormat?.type === 'json-schema') {
    generationConfig.responseMimeType = 'application/json';
    generationConfig.responseSchema = geminiSchema(req.responseFormat.schema);
  }
  // A budget (Anthropic's thinking) also asks for the thought summaries a thinking client shows; an
  // effort becomes the budget Google's own OpenAI compatibility maps it to
  // (https://ai.google.dev/gemini-api/docs/openai#thinking), thoughts kept hidden as OpenAI's are.
  if (req.reasoning?.budgetTokens !== undefined) generationConfig.thinkingConfig = { thinkingBudget: req.reasoning.budgetTokens, includeThoughts: true };
  else if (req.reasoning?.effort !== undefined) generationConfig.thinkingConfig = { thinkingBudget: THINKING_BUDGET_OF_EFFORT[req.reasoning.effort] };
  if (req.user !== undefined) sink.unsupported('user');
  const own = req.providerOptions?.[GEMINI_FORMAT];
  if (own) Object.assign(body, own);
  if (Object.keys(generationConfig).length > 0) body.generationConfig = { ...generationConfig, ...(isRecord(body.generationConfig) ? body.generationConfig : {}) };
  return { body, warnings: sink.warnings };
}

/** https://ai.google.dev/api/embeddings#method:-models.batchembedcontents: one request per input. */
export function geminiBatchEmbedRequest(req: EmbeddingRequest, model: string): { body: Record<string, unknown>; warnings: CallWarning[] } {
  const sink = new WarningSink();
  sink.foreignOptions(req.providerOptions, GEMINI_FORMAT);
  if (req.user !== undefined) sink.unsupported('user');
  const requests = req.input.map((input) => {
    const r: Record<string, unknown> = { model: `models/${model}`, content: { parts: [{ text: input }] } };
    if (req.dimensions !== undefined) r.outputDimensionality = req.dimensions;
    return r;
  });
  return { body: { requests }, warnings: sink.warnings };
}

/** https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api: Vertex serves embeddings through :predict. */
export function vertexPredictEmbedRequest(req: EmbeddingRequest, model: string): { body: Record<string, unknown>; warnings: CallWarning[] } {
  // Vertex's Gemini embedding models take one instance per request (the text-embedding ones up to 250).
  if (/^gemini-embedding/.test(model) && req.input.length > 1) {
    throw new InvalidClientRequest('input', `input: the Vertex AI model ${model} embeds one text per call; ${req.input.length} were given`);
  }
  const sink = new WarningSink();
  sink.foreignOptions(req.providerOptions, GEMINI_FORMAT);
  if (req.user !== undefined) sink.unsupported('user');
  const body: Record<string, unknown> = { instances: req.input.map((content) => ({ content })) };
  if (req.dimensions !== undefined) body.parameters = { outputDimensionality: req.dimensions };
  return { body, warnings: sink.warnings };
}

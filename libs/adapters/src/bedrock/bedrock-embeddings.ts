import {
  adapterError,
  InvalidClientRequest,
  isRecord,
  jsonOrUndefined,
  tokenCount,
  type CallWarning,
  type CanonicalUsage,
  type Decoded,
  type EmbeddingRequest,
  type EmbeddingResponse,
  type UpstreamHeaders,
} from '#libs/adapter-sdk';

/**
 * Embeddings through InvokeModel (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html),
 * whose body is the model family's own:
 * - Titan Text Embeddings (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html):
 *   `{inputText, dimensions?, normalize?}` -> `{embedding, inputTextTokenCount}`, one text per call;
 * - Cohere Embed (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html):
 *   `{texts, input_type}` -> `{embeddings}` (or `{embeddings: {float}}` when embedding_types was asked), up to 96 texts.
 */

export type EmbeddingFamily = 'titan' | 'cohere';

/** The family from the model id, cross-region inference profiles (`us.cohere.embed-...`) included. */
export function embeddingFamily(modelId: string): EmbeddingFamily | undefined {
  if (/(^|\.)amazon\.titan-embed-(text|g1-text)/.test(modelId)) return 'titan';
  if (/(^|\.)cohere\.embed-/.test(modelId)) return 'cohere';
  return undefined;
}

/** Titan v1 (amazon.titan-embed-text-v1, -g1-text-02) has a fixed size; v2 takes 256, 512 or 1024. */
const TITAN_DIMENSIONS = [256, 512, 1024];
const COHERE_MAX_TEXTS = 96;

export function embeddingBody(req: EmbeddingRequest, modelId: string, cohereInputType: string): { body: Record<string, unknown>; warnings: CallWarning[] } {
  const family = embeddingFamily(modelId);
  const warnings: CallWarning[] = [];
  if (req.user !== undefined) warnings.push({ type: 'unsupported-setting', setting: 'user' });
  if (family === 'titan') {
    // The contract sends one upstream request per call, and Titan embeds one text per request: more
    // than one input is refused rather than half served (Bedrock's batch inference is an offline job).
    if (req.input.length !== 1) {
      throw new InvalidClientRequest('input', `input: the Bedrock model ${modelId} (Titan) embeds one text per call; ${req.input.length} were given`);
    }
    const body: Record<string, unknown> = { inputText: req.input[0] };
    if (req.dimensions !== undefined) {
      if (!/titan-embed-text-v2/.test(modelId)) warnings.push({ type: 'unsupported-setting', setting: 'dimensions', details: `${modelId} has a fixed size` });
      else if (!TITAN_DIMENSIONS.includes(req.dimensions)) throw new InvalidClientRequest('dimensions', `dimensions: Titan v2 takes ${TITAN_DIMENSIONS.join(', ')}`);
      else body.dimensions = req.dimensions;
    }
    return { body, warnings };
  }
  if (family === 'cohere') {
    if (req.input.length > COHERE_MAX_TEXTS) throw new InvalidClientRequest('input', `input: Cohere Embed on Bedrock takes at most ${COHERE_MAX_TEXTS} texts per call`);
    if (req.dimensions !== undefined) warnings.push({ type: 'unsupported-setting', setting: 'dimensions', details: 'Cohere Embed v3 has a fixed size' });
    return { body: { texts: req.input, input_type: cohereInputType }, warnings };
  }
  throw new InvalidClientRequest('model', `model: ${modelId} is not an embedding model this adapter knows; Bedrock embeddings are served for Titan (amazon.titan-embed-*) and Cohere (cohere.embed-*)`);
}

function vector(v: unknown): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw new Error('an embedding is not an array of numbers');
  return v as number[];
}

const inputUsage = (tokens: number): CanonicalUsage => ({ input: { total: tokens, noCache: tokens, cacheRead: 0, cacheWrite: 0 }, output: { total: 0, text: 0, reasoning: 0 }, extra: {} });

/** InvokeModel reports the tokens it counted in a header, whatever the model family. */
function headerTokens(headers: UpstreamHeaders | undefined): number | undefined {
  const v = headers?.['x-amzn-bedrock-input-token-count'];
  const text = Array.isArray(v) ? v[0] : v;
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** An InvokeModel answer of either family -> canonical. Cohere's body has no token count: InvokeModel's header gives it. */
export function embeddingResponseFromBedrock(bytes: Uint8Array, options?: { meteringOnly?: boolean; headers?: UpstreamHeaders }): Decoded<EmbeddingResponse> {
  const body = jsonOrUndefined(bytes);
  try {
    if (!isRecord(body)) throw new Error('not a JSON object');
    if (body.embedding !== undefined) {
      return { value: { embeddings: options?.meteringOnly ? [] : [vector(body.embedding)], usage: inputUsage(tokenCount(body.inputTextTokenCount)) } };
    }
    const list = isRecord(body.embeddings) ? body.embeddings.float : body.embeddings;
    if (!Array.isArray(list)) throw new Error('no embedding or embeddings');
    const tokens = headerTokens(options?.headers);
    const res: EmbeddingResponse = { embeddings: options?.meteringOnly ? [] : list.map(vector) };
    if (tokens !== undefined) res.usage = inputUsage(tokens);
    return { value: res };
  } catch (err) {
    return { error: adapterError('upstream_error', `the upstream answered a malformed InvokeModel response: ${(err as Error).message}`) };
  }
}

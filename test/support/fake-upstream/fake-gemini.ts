import { createVerify, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_GEMINI_TEXT, GOOGLE_STATUS, type FakeGeminiAnswer, type FakeGeminiBehaviour, type FakeGeminiError } from './gemini-behaviour.js';
import { FakeUpstreamServer, prepareJson, type AnswerTarget, type FakeUpstream } from './fake-upstream-server.js';

/**
 * A fake Gemini upstream: node:http only, both URL forms of the same model API (Google AI Studio's
 * /{version}/models/{model}:{method} with x-goog-api-key, and Vertex AI's
 * /v1/projects/{p}/locations/{l}/publishers/google/models/{model}:{method} with an OAuth bearer
 * token), the SSE stream of streamGenerateContent?alt=sse, Google's error body, and an OAuth token
 * endpoint (POST /token, the JWT-bearer grant) that counts its fetches and issues short-lived tokens.
 */

export interface StartFakeGeminiOptions {
  port?: number;
  host?: string;
  /** AI Studio requests must carry this key (x-goog-api-key or ?key=); undefined accepts any. */
  apiKey?: string;
  /** Vertex requests must carry a bearer token this fake issued and that has not expired (default true). */
  requireToken?: boolean;
  /** Lifetime of the tokens POST /token issues, in seconds (default 3600). */
  tokenLifetimeSeconds?: number;
  /** When set, a token request's JWT assertion must verify with this key (the service account's public key). */
  serviceAccountPublicKey?: KeyObject | string;
  record?: boolean;
  defaultBehaviour?: FakeGeminiBehaviour;
}

export interface FakeGemini extends FakeUpstream<FakeGeminiBehaviour> {
  /** Base URL without a version, e.g. http://127.0.0.1:41234 (what @google/genai takes as httpOptions.baseUrl). */
  readonly url: string;
  /** The token endpoint to put in a service account's token_uri. */
  readonly tokenUri: string;
  /** Tokens issued since start (reset() does not forget them). */
  readonly tokenFetches: number;
  /** Tokens issued from now on live this long. */
  setTokenLifetime(seconds: number): void;
}

type Method = 'generateContent' | 'streamGenerateContent' | 'batchEmbedContents' | 'embedContent' | 'predict';
const METHODS = new Set<string>(['generateContent', 'streamGenerateContent', 'batchEmbedContents', 'embedContent', 'predict']);
const AI_STUDIO_PATH = /^\/(v1beta|v1|v1alpha)\/models\/([^/:]+):([A-Za-z]+)$/;
const VERTEX_PATH = /^\/(v1|v1beta1)\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):([A-Za-z]+)$/;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CONTENT: FakeGeminiBehaviour = { kind: 'content' };

interface RequestContext extends AnswerTarget {
  model: string;
  method: Method;
  vertex: boolean;
  body: Record<string, unknown>;
}

function googleError(status: number, message: string, googleStatus = GOOGLE_STATUS[status] ?? 'UNKNOWN', details?: unknown[]): Record<string, unknown> {
  return { error: { code: status, message, status: googleStatus, ...(details ? { details } : {}) } };
}

function errorBody(b: FakeGeminiError): Record<string, unknown> {
  const details: unknown[] = [];
  if (b.reason) details.push({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: b.reason, domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } });
  if (b.status === 429) {
    details.push({ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier' }] });
  }
  if (b.retryDelay) details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: b.retryDelay });
  return googleError(b.status, b.message ?? `fake Gemini error ${b.status}`, b.googleStatus, details.length > 0 ? details : undefined);
}

function usageMetadata(a: FakeGeminiAnswer, candidates: number, final: boolean): Record<string, unknown> {
  const u = a.usage ?? {};
  const prompt = u.promptTokens ?? 8;
  if (!final) return { promptTokenCount: prompt, totalTokenCount: prompt, promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }] };
  const out = (u.candidatesTokens ?? 7) * candidates;
  const thoughts = u.thoughtsTokens ?? 0;
  const m: Record<string, unknown> = { promptTokenCount: prompt, candidatesTokenCount: out, totalTokenCount: prompt + out + thoughts, promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }] };
  if (u.cachedTokens) {
    m.cachedContentTokenCount = u.cachedTokens;
    m.cacheTokensDetails = [{ modality: 'TEXT', tokenCount: u.cachedTokens }];
  }
  if (thoughts) m.thoughtsTokenCount = thoughts;
  return m;
}

function requestedCandidates(a: FakeGeminiAnswer, body: Record<string, unknown>): number {
  if (a.candidates) return a.candidates;
  const config = body.generationConfig as { candidateCount?: unknown } | undefined;
  return typeof config?.candidateCount === 'number' ? config.candidateCount : 1;
}

/** A deterministic vector per text, so a test can tell which input a vector belongs to. */
export function fakeGeminiVector(text: string, dimensions = 4): number[] {
  return Array.from({ length: dimensions }, (_, i) => Number((((text.length + 1) * (i + 1)) / 100).toFixed(4)));
}

class FakeGeminiServer extends FakeUpstreamServer<FakeGeminiBehaviour> implements FakeGemini {
  tokenFetches = 0;
  private tokenLifetime: number;
  private readonly tokens = new Map<string, number>();
  private responseSeq = 0;

  constructor(private readonly geminiOptions: StartFakeGeminiOptions) {
    super(geminiOptions, { name: 'Gemini', urlPath: '', builtInDefault: CONTENT, echoHeaders: ['x-goog-api-key', 'authorization'] });
    this.tokenLifetime = geminiOptions.tokenLifetimeSeconds ?? 3600;
  }

  get tokenUri(): string {
    return `${this.url}/token`;
  }

  setTokenLifetime(seconds: number): void {
    this.tokenLifetime = seconds;
  }

  protected sendInternalError(res: ServerResponse, err: unknown): void {
    this.send(res, prepareJson(500, googleError(500, `fake upstream failed: ${String(err)}`)));
  }

  protected handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const { method, path, body, bodyIsJson, record } = this.read(req, raw);
    if (method === 'POST' && path === '/token') return this.issueToken(res, raw);
    const studio = AI_STUDIO_PATH.exec(path);
    const vertex = studio ? null : VERTEX_PATH.exec(path);
    const match = studio ? { model: studio[2]!, method: studio[3]! } : vertex ? { model: vertex[4]!, method: vertex[5]! } : undefined;
    if (method !== 'POST' || !match || !METHODS.has(match.method)) return this.send(res, prepareJson(404, googleError(404, `Method not found: ${method} ${path}`)));
    if (studio ? !this.keyAccepted(req, res) : !this.tokenAccepted(req, res)) return;
    if (!bodyIsJson || typeof body !== 'object' || body === null || Array.isArray(body)) {
      return this.send(res, prepareJson(400, googleError(400, 'Invalid JSON payload received.')));
    }
    const request = body as Record<string, unknown>;
    if ((match.method === 'generateContent' || match.method === 'streamGenerateContent') && !Array.isArray(request.contents)) {
      return this.send(res, prepareJson(400, googleError(400, '* GenerateContentRequest.contents: contents is not specified')));
    }
    const ctx: RequestContext = { model: match.model, method: match.method as Method, vertex: vertex !== null, body: request, headers: req.headers, record, res };
    this.answer(this.behaviours.next(ctx.model), ctx);
  }

  private keyAccepted(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.apiKey === undefined) return true;
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const key = req.headers['x-goog-api-key'] ?? query.get('key') ?? undefined;
    if (key === this.apiKey) return true;
    if (key === undefined) {
      this.send(res, prepareJson(403, googleError(403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.")));
    } else {
      this.send(res, prepareJson(400, errorBody({ status: 400, message: 'API key not valid. Please pass a valid API key.', reason: 'API_KEY_INVALID' })));
    }
    return false;
  }

  private tokenAccepted(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.geminiOptions.requireToken === false) return true;
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    const expiresAt = token === undefined ? undefined : this.tokens.get(token);
    if (expiresAt !== undefined && Date.now() < expiresAt) return true;
    this.send(
      res,
      prepareJson(
        401,
        googleError(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.'),
      ),
    );
    return false;
  }

  /** RFC 7523's JWT-bearer grant, as oauth2.googleapis.com/token answers it. */
  private issueToken(res: ServerResponse, raw: Buffer): void {
    const form = new URLSearchParams(raw.toString('utf8'));
    const assertion = form.get('assertion') ?? '';
    const [header, payload, signature] = assertion.split('.');
    let claims: Record<string, unknown> | undefined;
    try {
      claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      claims = undefined;
    }
    const key = this.geminiOptions.serviceAccountPublicKey;
    const verified = key === undefined || (signature !== undefined && createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(key, Buffer.from(signature, 'base64url')));
    if (form.get('grant_type') !== JWT_BEARER || !claims || typeof claims.iss !== 'string' || !verified) {
      return this.send(res, prepareJson(400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }));
    }
    if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes('https://www.googleapis.com/auth/cloud-platform')) {
      return this.send(res, prepareJson(400, { error: 'invalid_scope', error_description: 'Invalid OAuth scope or ID token audience provided.' }));
    }
    this.tokenFetches++;
    const token = `ya29.fake-${this.tokenFetches}-${Date.now().toString(36)}`;
    this.tokens.set(token, Date.now() + this.tokenLifetime * 1000);
    this.send(res, prepareJson(200, { access_token: token, expires_in: this.tokenLifetime, token_type: 'Bearer' }));
  }

  private answer(b: FakeGeminiBehaviour, ctx: RequestContext): void {
    switch (b.kind) {
      case 'delay':
        return this.later(ctx.res, b.ms, () => this.answer(b.then ?? this.behaviours.fallback(ctx.model), ctx));
      case 'disconnect':
        ctx.res.socket?.destroy();
        return;
      case 'raw':
        return this.sendRaw(b, ctx);
      case 'error':
        return this.send(ctx.res, prepareJson(b.status, errorBody(b), b.headers));
      case 'content':
        if (ctx.method === 'streamGenerateContent') return this.stream(b, ctx);
        if (ctx.method === 'generateContent') return this.send(ctx.res, prepareJson(200, this.whole(b, ctx), b.headers));
        return this.send(ctx.res, prepareJson(200, this.embeddings(ctx)));
    }
  }

  private parts(a: FakeGeminiAnswer): Record<string, unknown>[] {
    const parts: Record<string, unknown>[] = [];
    if (a.thoughts) parts.push({ text: a.thoughts, thought: true });
    if (a.functionCalls) parts.push(...this.functionCallParts(a));
    else parts.push({ text: a.deltas ? a.deltas.join('') : (a.text ?? DEFAULT_GEMINI_TEXT) });
    return parts;
  }

  /** Only the first of parallel calls is signed, as Gemini does. */
  private functionCallParts(a: FakeGeminiAnswer): Record<string, unknown>[] {
    return (a.functionCalls ?? []).map((fc, i) => ({ functionCall: { name: fc.name, args: fc.args }, ...(i === 0 && a.thoughtSignature ? { thoughtSignature: a.thoughtSignature } : {}) }));
  }

  private meta(a: FakeGeminiAnswer, ctx: RequestContext): { modelVersion: string; responseId: string } {
    return { modelVersion: a.modelVersion ?? ctx.model, responseId: a.responseId ?? `fakeResp${(++this.responseSeq).toString(36).padStart(6, '0')}` };
  }

  private whole(a: FakeGeminiAnswer, ctx: RequestContext): Record<string, unknown> {
    const n = requestedCandidates(a, ctx.body);
    const meta = this.meta(a, ctx);
    if (a.blockReason) return { promptFeedback: { blockReason: a.blockReason }, usageMetadata: usageMetadata(a, 0, false), ...meta };
    const candidates = Array.from({ length: n }, (_, index) => ({ content: { parts: this.parts(a), role: 'model' }, finishReason: a.finishReason ?? 'STOP', index }));
    return { candidates, usageMetadata: usageMetadata(a, n, true), ...meta };
  }

  /** One chunk per delta (thoughts first, function calls whole), the last with finishReason and the full usage; CRLF-framed as Google sends it. */
  private stream(a: FakeGeminiAnswer, ctx: RequestContext): void {
    const n = requestedCandidates(a, ctx.body);
    const meta = this.meta(a, ctx);
    const chunks: Record<string, unknown>[] = [];
    if (a.blockReason) chunks.push({ promptFeedback: { blockReason: a.blockReason }, usageMetadata: usageMetadata(a, 0, false), ...meta });
    else {
      const pieces: Record<string, unknown>[][] = [];
      if (a.thoughts) pieces.push([{ text: a.thoughts, thought: true }]);
      if (a.functionCalls) pieces.push(this.functionCallParts(a));
      else {
        const text = a.text ?? DEFAULT_GEMINI_TEXT;
        for (const d of a.deltas ?? text.split(/(?<= )/)) pieces.push([{ text: d }]);
      }
      pieces.forEach((parts, i) => {
        const last = i === pieces.length - 1;
        const candidates = Array.from({ length: n }, (_, index) => ({ content: { parts, role: 'model' }, index, ...(last ? { finishReason: a.finishReason ?? 'STOP' } : {}) }));
        chunks.push({ candidates, usageMetadata: usageMetadata(a, n, last), ...meta });
      });
    }
    let events = chunks.map((c) => Buffer.from(`data: ${JSON.stringify(c)}\r\n\r\n`));
    if (a.streamError) {
      const e = a.streamError;
      const error = googleError(e.code ?? 500, e.message ?? 'An internal error has occurred.', e.status);
      events = [...events.slice(0, Math.min(e.afterChunks, events.length - 1)), Buffer.from(`data: ${JSON.stringify(error)}\r\n\r\n`)];
    }
    const breakAfter = a.streamError ? undefined : a.breakAfterChunks;
    if (breakAfter !== undefined) events = events.slice(0, breakAfter);
    this.writeStream(ctx.res, events, { headers: a.headers, echo: undefined, delayMs: a.chunkDelayMs ?? 0, breakAfter });
  }

  private embeddings(ctx: RequestContext): Record<string, unknown> {
    const b = ctx.body;
    const textOf = (content: unknown): string => {
      const parts = (content as { parts?: { text?: unknown }[] } | undefined)?.parts ?? [];
      return parts.map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
    };
    if (ctx.method === 'predict') {
      const instances = Array.isArray(b.instances) ? (b.instances as { content?: unknown }[]) : [];
      const dims = (b.parameters as { outputDimensionality?: number } | undefined)?.outputDimensionality;
      return {
        predictions: instances.map((i) => {
          const text = typeof i.content === 'string' ? i.content : '';
          return { embeddings: { values: fakeGeminiVector(text, dims), statistics: { token_count: Math.max(1, text.split(/\s+/).filter(Boolean).length), truncated: false } } };
        }),
        metadata: { billableCharacterCount: instances.reduce((n, i) => n + (typeof i.content === 'string' ? i.content.length : 0), 0) },
      };
    }
    if (ctx.method === 'embedContent') return { embedding: { values: fakeGeminiVector(textOf(b.content), b.outputDimensionality as number | undefined) } };
    const requests = Array.isArray(b.requests) ? (b.requests as { content?: unknown; outputDimensionality?: number }[]) : [];
    return { embeddings: requests.map((r) => ({ values: fakeGeminiVector(textOf(r.content), r.outputDimensionality) })) };
  }
}

/** Starts a fake Gemini upstream on 127.0.0.1 and a free port unless told otherwise. */
export async function startFakeGemini(options: StartFakeGeminiOptions = {}): Promise<FakeGemini> {
  const fake = new FakeGeminiServer(options);
  await fake.listen();
  return fake;
}

import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeUpstreamServer, prepareJson, type AnswerTarget, type FakeUpstream } from './fake-upstream-server.js';
import { bedrockException, converseResponse, estimateTokens, converseStreamEvents, invokeEmbeddingResponse, type FakeBedrockAnswer, type FakeBedrockBehaviour } from './bedrock-wire.js';
import { NodeSha256 } from '../../../libs/adapters/src/bedrock/bedrock-signer.js';

/**
 * A fake Amazon Bedrock runtime: node:http only, POST /model/{modelId}/converse, /converse-stream
 * (AWS binary event-stream) and /invoke (Titan and Cohere embeddings). Every request's SigV4
 * signature is verified as AWS does, by recomputing it with @smithy/signature-v4 from the known test
 * credentials: an unknown key id, a wrong secret, a stale date or a changed body is answered 403 with
 * AWS's error types. Driven by the test like the other fakes (enqueue, script by model id, setDefault).
 */

export const TEST_AWS_CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } as const;

export interface StartFakeBedrockOptions {
  port?: number;
  host?: string;
  /** The credentials requests must be signed with (default TEST_AWS_CREDENTIALS); a sessionToken makes x-amz-security-token required. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The signing region requests must name (default us-east-1). */
  region?: string;
  record?: boolean;
  defaultBehaviour?: FakeBedrockBehaviour;
}

export interface FakeBedrock extends FakeUpstream<FakeBedrockBehaviour> {
  /** The endpoint, e.g. http://127.0.0.1:41234 (the SDK's `endpoint`, a connection's baseUrl). */
  readonly url: string;
  readonly region: string;
  /** Requests refused for their signature since start or the last reset(). */
  readonly refusedSignatures: number;
}

interface RequestContext extends AnswerTarget {
  action: 'converse' | 'converse-stream' | 'invoke';
  modelId: string;
  body: unknown;
  requestId: string;
}

const ANSWER: FakeBedrockBehaviour = { kind: 'answer' };
const EVENT_STREAM_HEADERS = { 'content-type': 'application/vnd.amazon.eventstream' };
/** AWS refuses a signature older or newer than this (the error is InvalidSignatureException "Signature expired"). */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
const AUTH_HEADER = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

class FakeBedrockServer extends FakeUpstreamServer<FakeBedrockBehaviour> implements FakeBedrock {
  readonly region: string;
  refusedSignatures = 0;
  private readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  private readonly signer: SignatureV4;

  constructor(options: StartFakeBedrockOptions) {
    super(options, { name: 'Bedrock', urlPath: '', builtInDefault: ANSWER, echoHeaders: ['authorization'] });
    this.region = options.region ?? 'us-east-1';
    this.credentials = options.credentials ?? { ...TEST_AWS_CREDENTIALS };
    this.signer = new SignatureV4({ credentials: this.credentials, region: this.region, service: 'bedrock', sha256: NodeSha256, uriEscapePath: true });
  }

  override reset(): void {
    super.reset();
    this.refusedSignatures = 0;
  }

  protected sendInternalError(res: ServerResponse, err: unknown): void {
    this.sendError(res, 500, 'InternalServerException', `fake upstream failed: ${String(err)}`);
  }

  protected handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    // The signature check is asynchronous (the signer's hashes are); answers wait for it.
    void this.handleSigned(req, res, raw).catch((err) => (res.headersSent ? res.destroy() : this.sendInternalError(res, err)));
  }

  private async handleSigned(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const requestId = randomUUID();
    res.setHeader('x-amzn-requestid', requestId);
    const { method, path, body, bodyIsJson, record } = this.read(req, raw);
    const refusal = await this.verifySignature(req, raw);
    if (refusal) {
      this.refusedSignatures++;
      return this.sendError(res, 403, refusal.type, refusal.message);
    }
    const m = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec(path);
    if (method !== 'POST' || !m) return this.sendError(res, 404, 'UnknownOperationException', `no operation at ${method} ${path}`);
    if (!bodyIsJson || typeof body !== 'object' || body === null) return this.sendError(res, 400, 'ValidationException', 'Malformed input request, please reformat your input and try again.');
    const ctx: RequestContext = { action: m[2] as RequestContext['action'], modelId: decodeURIComponent(m[1]!), body, headers: req.headers, record, res, requestId };
    if (ctx.action !== 'invoke' && !Array.isArray((body as Record<string, unknown>).messages)) {
      return this.sendError(res, 400, 'ValidationException', '1 validation error detected: Value null at \'messages\' failed to satisfy constraint: Member must not be null');
    }
    this.answer(this.behaviours.next(ctx.modelId), ctx);
  }

  /** Recomputes the request's signature from the known credentials; the refusal AWS would send, or undefined when it verifies. */
  private async verifySignature(req: IncomingMessage, raw: Buffer): Promise<{ type: string; message: string } | undefined> {
    const auth = req.headers.authorization;
    if (auth === undefined) return { type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
    const m = AUTH_HEADER.exec(auth);
    if (!m) return { type: 'IncompleteSignatureException', message: `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${auth}` };
    const [, keyId, day, region, service, signedHeaders, signature] = m as unknown as string[];
    if (keyId !== this.credentials.accessKeyId) return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
    if (service !== 'bedrock' || region !== this.region) return { type: 'InvalidSignatureException', message: `Credential should be scoped to a valid region and service: ${this.region}/bedrock` };
    if (this.credentials.sessionToken !== undefined && req.headers['x-amz-security-token'] !== this.credentials.sessionToken) {
      return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
    }
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!date || amzDate.slice(0, 8) !== day) return { type: 'IncompleteSignatureException', message: 'Date must be in ISO-8601 basic format and match the credential scope.' };
    const signingDate = new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!));
    if (Math.abs(Date.now() - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) return { type: 'InvalidSignatureException', message: `Signature expired: ${amzDate} is now earlier or later than the allowed skew.` };
    const declaredHash = req.headers['x-amz-content-sha256'];
    if (typeof declaredHash === 'string' && declaredHash !== createHash('sha256').update(raw).digest('hex')) {
      return { type: 'InvalidSignatureException', message: 'The provided x-amz-content-sha256 header does not match what was computed.' };
    }
    // The canonical request covers exactly the headers the client signed.
    const headers: Record<string, string> = {};
    for (const name of signedHeaders!.split(';')) {
      const v = req.headers[name];
      if (v === undefined) return { type: 'InvalidSignatureException', message: `The header ${name} is signed but absent.` };
      headers[name] = Array.isArray(v) ? v.join(',') : v;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const query: Record<string, string> = {};
    if (q !== -1) new URLSearchParams(url.slice(q + 1)).forEach((v, k) => (query[k] = v));
    const expected = await this.signer.sign(
      { method: req.method ?? 'GET', protocol: 'http:', hostname: String(req.headers.host ?? '').replace(/:\d+$/, ''), path: q === -1 ? url : url.slice(0, q), query, headers, body: raw },
      { signingDate, signingRegion: region, signingService: 'bedrock', unsignableHeaders: new Set(), signableHeaders: new Set(Object.keys(headers)) },
    );
    const got = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization ?? ''))?.[1];
    if (got !== signature) {
      return {
        type: 'InvalidSignatureException',
        message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      };
    }
    return undefined;
  }

  private sendError(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
    this.send(res, prepareJson(status, { message }, { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`, ...headers }));
  }

  private answer(b: FakeBedrockBehaviour, ctx: RequestContext): void {
    const { res } = ctx;
    switch (b.kind) {
      case 'delay':
        return this.later(res, b.ms, () => this.answer(b.then ?? this.behaviours.fallback(ctx.modelId), ctx));
      case 'disconnect':
        res.socket?.destroy();
        return;
      case 'error':
        return this.sendError(res, b.status, b.type, b.message, b.retryAfter !== undefined ? { 'retry-after': String(b.retryAfter) } : {});
      case 'answer':
      case 'stream-exception': {
        if (ctx.action === 'invoke') {
          const answer = invokeEmbeddingResponse(ctx.modelId, ctx.body);
          if (!answer) return this.sendError(res, 400, 'ValidationException', `The provided model identifier is invalid for InvokeModel in this fake: ${ctx.modelId}`);
          // InvokeModel reports the tokens it counted (and, for a generation, produced) in headers.
          const counted = { 'x-amzn-bedrock-input-token-count': String(estimateTokens((ctx.body as Record<string, unknown>).texts ?? (ctx.body as Record<string, unknown>).inputText)), 'x-amzn-bedrock-output-token-count': '0', 'x-amzn-bedrock-invocation-latency': '12' };
          return answer.status === 200 ? this.send(res, prepareJson(200, answer.body, counted)) : this.sendError(res, answer.status, 'ValidationException', String(answer.body.message));
        }
        const a: FakeBedrockAnswer = b;
        if (ctx.action === 'converse') {
          if (b.kind === 'stream-exception') return this.sendError(res, 500, 'InternalServerException', 'a stream-exception behaviour was queued but Converse (not ConverseStream) was called');
          return this.send(res, prepareJson(200, converseResponse(a, ctx.body)));
        }
        let events = converseStreamEvents(a, ctx.body);
        if (b.kind === 'stream-exception') events = [...events.slice(0, b.afterEvents), bedrockException(b.exception, b.message)];
        return this.writeStream(
          res,
          events.map((e) => Buffer.from(e.buffer, e.byteOffset, e.byteLength)),
          { headers: EVENT_STREAM_HEADERS, echo: undefined, delayMs: 0, breakAfter: undefined },
        );
      }
    }
  }
}

export async function startFakeBedrock(options: StartFakeBedrockOptions = {}): Promise<FakeBedrock> {
  const server = new FakeBedrockServer(options);
  await server.listen();
  return server;
}

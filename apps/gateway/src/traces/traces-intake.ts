import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DURABLE_STREAMS, JsonBytes, type DurableStreams } from '#libs/bus';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { isModelCallSpan, meteringAttributes, type SpanBatch, type SpanRecord } from '#libs/contracts';
import type { JsonLimits } from '#libs/json-limits';
import { assertJsonWithinLimits, JsonLimitExceeded, jsonLimitsOf } from '../edge/json-body.js';
import { mintRequestId } from '../edge/request-id.js';
import type { AnswerContext } from '../v1/client-format-writer.js';
import { openAIResponseWriter } from '../v1/openai-response-writer.js';
import { V1FrontDoor } from '../v1/v1-front-door.js';
import { OtlpProtobuf } from './otlp-protobuf.js';
import { OtlpPayloadError, readOtlpSpans } from './otlp-spans.js';

const gunzip = promisify(zlib.gunzip);

export const TRACES_PATH = '/v1/traces';
/** A span batch on the durable stream stays under this many bytes (NATS' default max_payload is 1 MB). */
export const MAX_BATCH_BYTES = 512 * 1024;
/** The same count bound as the gateway's own batches. */
const MAX_BATCH_SPANS = 512;

type Encoding = 'protobuf' | 'json';

/** A refusal of the export: the status and OpenAI-shaped error (the /v1 family's format). */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = 'body',
  ) {
    super(message);
  }
}

/**
 * POST /v1/traces: OTLP/HTTP trace intake (https://opentelemetry.io/docs/specs/otlp/#otlphttp) for
 * services that call providers themselves. Protobuf (application/x-protobuf) or JSON
 * (application/json), gzip or not, authenticated with a gateway key (Authorization: Bearer, or
 * x-api-key): the key's organisation and project own the spans, whatever they say.
 *
 * The spans that are model calls (isModelCallSpan) go, with the attributes metering reads, onto the
 * durable stream the gateway's own spans take (telemetry.v1.spans), and the answer (an empty
 * ExportTraceServiceResponse in the request's encoding) is sent only once the stream has stored
 * them: a 200 means nothing will be lost. Metering prices them exactly once per (organisation,
 * trace id, span id), so a sender's retry costs nothing. A malformed or mistyped export is 400, a
 * body over OTLP_MAX_BODY_BYTES (as sent or inflated) 413, and neither stores a single span.
 */
@Injectable()
export class TracesIntake {
  private readonly logger = new Logger('Traces');
  private readonly protobuf = new OtlpProtobuf();
  private readonly maxBodyBytes: number;
  private readonly jsonLimits: JsonLimits;

  constructor(
    private readonly frontDoor: V1FrontDoor,
    @Inject(DURABLE_STREAMS) private readonly durable: DurableStreams,
    @Inject(APP_CONFIG) config: Readonly<AppConfig>,
  ) {
    this.maxBodyBytes = config.otlpMaxBodyBytes;
    this.jsonLimits = jsonLimitsOf(config);
  }

  /** Serves POST /v1/traces and answers true; false leaves the request to the other routes. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url;
    if (req.method !== 'POST' || url === undefined || !url.startsWith(TRACES_PATH) || (url.length > TRACES_PATH.length && url[TRACES_PATH.length] !== '?')) return false;
    const ctx: AnswerContext = { requestId: mintRequestId() };
    this.receive(req, res, ctx).catch((err: unknown) => {
      if (err instanceof Refusal) {
        if (err.status === 413) res.shouldKeepAlive = false;
        if (!res.headersSent) openAIResponseWriter.writeRequestError(res, err.status, { message: err.message, code: err.code, param: err.param }, ctx, err.status === 413 ? { connection: 'close' } : {});
        if (err.status === 413) {
          if (res.writableFinished) req.destroy();
          else res.once('finish', () => req.destroy());
        }
        return;
      }
      this.logger.error(`[${ctx.requestId}] ${TRACES_PATH} failed: ${(err as Error)?.stack ?? String(err)}`);
      // OTLP senders retry a 503 (https://opentelemetry.io/docs/specs/otlp/#retryable-response-codes).
      if (!res.headersSent) openAIResponseWriter.writeRequestError(res, 503, { message: 'The spans could not be stored; retry.', code: 'unavailable' }, ctx, { 'retry-after': '1' });
    });
    return true;
  }

  private async receive(req: IncomingMessage, res: ServerResponse, ctx: AnswerContext): Promise<void> {
    const auth = this.frontDoor.authenticate(req);
    if (!('principal' in auth)) throw new Refusal(401, 'invalid_api_key', auth.missing ? 'Missing API key: send Authorization: Bearer <gateway key>.' : 'Incorrect API key provided.', null);
    const encoding = encodingOf(req.headers['content-type']);
    const compression = compressionOf(req.headers['content-encoding']);
    if (Number(req.headers['content-length']) > this.maxBodyBytes) throw this.tooLarge();
    const sent = await this.readBody(req);
    const bytes = compression === 'gzip' ? await this.inflate(sent) : sent;

    const principal = auth.principal;
    let spans: SpanRecord[];
    try {
      spans = readOtlpSpans(encoding === 'json' ? this.parseJson(bytes) : this.protobuf.decodeRequest(bytes), {
        organisationId: principal.organisationId,
        projectId: principal.projectId,
        keyId: principal.keyId,
      });
    } catch (err) {
      if (err instanceof OtlpPayloadError) throw new Refusal(400, 'invalid_otlp', err.message, err.field);
      throw err;
    }
    await this.publish(spans.filter((s) => isModelCallSpan(s.attributes)).map((s) => ({ ...s, attributes: meteringAttributes(s.attributes) })));

    const body = encoding === 'json' ? Buffer.from('{}') : Buffer.from(this.protobuf.encodeEmptyResponse());
    res.writeHead(200, { 'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf', 'content-length': body.length, 'x-request-id': ctx.requestId });
    res.end(body);
  }

  private readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size > this.maxBodyBytes) {
          // Stop reading and holding the body; the refusal closes the connection once it is out.
          chunks.length = 0;
          req.off('data', onData);
          req.pause();
          reject(this.tooLarge());
          return;
        }
        chunks.push(chunk);
      };
      req.on('data', onData);
      req.on('error', reject);
      req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    });
  }

  /** Inflates at most OTLP_MAX_BODY_BYTES: a zip bomb stops there (zlib refuses to write more), as a 413. */
  private async inflate(bytes: Buffer): Promise<Buffer> {
    try {
      return await gunzip(bytes, { maxOutputLength: this.maxBodyBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw this.tooLarge(true);
      throw new Refusal(400, 'invalid_gzip', `The body is not valid gzip (content-encoding: gzip): ${(err as Error).message}.`);
    }
  }

  private parseJson(bytes: Buffer): unknown {
    try {
      assertJsonWithinLimits(bytes, this.jsonLimits);
      return JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      if (err instanceof JsonLimitExceeded) throw new Refusal(400, err.code, err.message);
      throw new Refusal(400, 'invalid_json', 'The request body is not valid JSON.');
    }
  }

  /**
   * Publishes the spans in batches bounded in count and bytes, each under a new id, and resolves once
   * every batch is stored. A retry of the whole export publishes again: metering keeps one record per span.
   */
  private async publish(spans: SpanRecord[]): Promise<void> {
    let batch: string[] = [];
    let bytes = 0;
    const batches: { batchId: string; bytes: Buffer }[] = [];
    const seal = (): void => {
      if (batch.length === 0) return;
      const batchId = randomUUID(); // a UUID needs no JSON escaping
      batches.push({ batchId, bytes: Buffer.from(`{"batchId":"${batchId}","spans":[${batch.join(',')}]}`) });
      batch = [];
      bytes = 0;
    };
    for (const span of spans) {
      const json = JSON.stringify(span);
      const size = Buffer.byteLength(json);
      if (size > MAX_BATCH_BYTES) throw new Refusal(413, 'span_too_large', `span ${span.traceId}/${span.spanId} carries ${size} bytes of metered attributes, more than ${MAX_BATCH_BYTES}.`);
      if (batch.length >= MAX_BATCH_SPANS || bytes + size > MAX_BATCH_BYTES) seal();
      batch.push(json);
      bytes += size + 1;
    }
    seal();
    await Promise.all(batches.map((b) => this.durable.publish('telemetry.v1.spans', new JsonBytes<SpanBatch>(b.bytes), b.batchId)));
  }

  private tooLarge(inflated = false): Refusal {
    return new Refusal(413, 'request_too_large', `The request body is larger than ${this.maxBodyBytes} bytes${inflated ? ' once decompressed' : ''}.`);
  }
}

/** OTLP/HTTP's two encodings; anything else is 415. */
function encodingOf(contentType: string | undefined): Encoding {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  throw new Refusal(415, 'unsupported_media_type', 'Content-Type must be application/x-protobuf or application/json (OTLP/HTTP).', 'content-type');
}

function compressionOf(contentEncoding: string | undefined): 'gzip' | 'identity' {
  const value = (contentEncoding ?? '').trim().toLowerCase();
  if (value === '' || value === 'identity') return 'identity';
  if (value === 'gzip') return 'gzip';
  throw new Refusal(415, 'unsupported_content_encoding', 'Content-Encoding must be gzip or absent.', 'content-encoding');
}

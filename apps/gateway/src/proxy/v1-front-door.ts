import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { JsonLimits } from '#libs/json-limits';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { assertJsonWithinLimits, JsonLimitExceeded, jsonLimitsOf } from '../edge/json-body.js';
import { ChatCompletionsHandler } from './chat-completions.handler.js';
import { openAIError, writeOpenAIError } from './openai-error.js';

const CHAT_COMPLETIONS = '/v1/chat/completions';

/**
 * The gateway's hot path, served straight from node:http before Fastify sees the request: the
 * calls every client makes per completion skip the framework's routing, hooks, content-type
 * parsing and reply pipeline (measured by `npm run bench`). Everything else, /v1/models and /v1's
 * 404s included, goes on to Fastify. Answers errors in OpenAI's format, as the /v1 routes do.
 */
@Injectable()
export class V1FrontDoor {
  private readonly logger = new Logger('V1');
  /** The largest request body /v1 reads (V1_MAX_BODY_BYTES); more is refused with 413 and never forwarded. */
  private readonly maxBodyBytes: number;
  private readonly jsonLimits: JsonLimits;

  constructor(
    private readonly chat: ChatCompletionsHandler,
    @Inject(APP_CONFIG) config: Readonly<AppConfig>,
  ) {
    this.maxBodyBytes = config.v1MaxBodyBytes;
    this.jsonLimits = jsonLimitsOf(config);
  }

  /** Serves the request when it is a hot /v1 call and answers true; false leaves it to Fastify. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'POST' || !isPath(req.url, CHAT_COMPLETIONS)) return false;
    this.chatCompletions(req, res);
    return true;
  }

  private chatCompletions(req: IncomingMessage, res: ServerResponse): void {
    const principal = this.chat.authenticate(req.headers);
    if ('error' in principal) {
      writeOpenAIError(res, 401, principal); // node:http discards the unread body
      return;
    }
    if (!isJson(req.headers['content-type'])) {
      writeOpenAIError(res, 415, openAIError('Content-Type must be application/json.', 'invalid_request_error', 'unsupported_media_type', 'content-type'));
      return;
    }
    if (Number(req.headers['content-length']) > this.maxBodyBytes) {
      this.tooLarge(res);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.maxBodyBytes) {
        // Stop reading and holding the body; close once the 413 is out (destroying at once could drop it).
        chunks.length = 0;
        req.removeAllListeners('data');
        req.pause();
        if (!res.headersSent) this.tooLarge(res);
        if (res.writableFinished) req.destroy();
        else res.once('finish', () => req.destroy());
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => undefined); // the client went away mid-body: nobody to answer
    req.on('end', () => {
      if (size > this.maxBodyBytes) return;
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      let body: unknown;
      try {
        // Bounded before parsed: a body of a million tiny objects or nested 10,000 deep never becomes objects.
        assertJsonWithinLimits(bytes, this.jsonLimits);
        body = JSON.parse(bytes.toString('utf8'));
      } catch (err) {
        if (err instanceof JsonLimitExceeded) {
          writeOpenAIError(res, 400, openAIError(err.message, 'invalid_request_error', err.code, 'body'));
          return;
        }
        writeOpenAIError(res, 400, openAIError('The request body is not valid JSON.', 'invalid_request_error', 'invalid_json', 'body'));
        return;
      }
      this.chat.handle(req, res, principal, body).catch((err: unknown) => {
        this.logger.error(`chat completion failed: ${(err as Error)?.stack ?? String(err)}`);
        if (!res.headersSent) writeOpenAIError(res, 500, openAIError('internal error', 'api_error', 'internal_error'));
        else res.destroy();
      });
    });
  }

  private tooLarge(res: ServerResponse): void {
    res.shouldKeepAlive = false; // do not read the rest of a body this large
    writeOpenAIError(res, 413, openAIError(`The request body is larger than ${this.maxBodyBytes} bytes.`, 'invalid_request_error', 'request_too_large', 'body'), { connection: 'close' });
  }
}

function isPath(url: string | undefined, path: string): boolean {
  return url !== undefined && url.startsWith(path) && (url.length === path.length || url.charCodeAt(path.length) === 63 /* ? */);
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

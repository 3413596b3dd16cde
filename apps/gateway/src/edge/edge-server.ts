import http from 'node:http';
import type { AppConfig } from '#libs/config';
import { AppError, ErrorCode } from '#libs/contracts';
import { anthropicResponseWriter } from '../v1/anthropic-response-writer.js';
import { openAIResponseWriter } from '../v1/openai-response-writer.js';
import { mintRequestId } from './request-id.js';
import { ClientConcurrency } from './client-concurrency.js';

/**
 * The gateway's node:http server, hardened against slow and greedy clients before any route runs:
 * - a client must send its headers within HTTP_HEADERS_TIMEOUT_MS and its whole request within
 *   HTTP_REQUEST_TIMEOUT_MS, else Node answers 408 and closes the connection. Node's requestTimeout
 *   covers receiving the request only (the connection leaves Node's watch list once the request is
 *   complete), so a long streamed answer is not cut;
 * - Node checks those timeouts every connectionsCheckingInterval (30 s by default, which would let
 *   a slow client stay up to 30 s past its limit), so the interval follows the timeouts;
 * - a client over its in-flight bounds is answered 429 with retry-after, in the caller's format.
 */
export function createEdgeServer(config: Readonly<AppConfig>, handler: http.RequestListener): http.Server {
  const concurrency = new ClientConcurrency(config.maxConcurrentRequestsPerConnection, config.maxConcurrentRequestsPerAddress);
  const server = http.createServer(
    {
      headersTimeout: config.httpHeadersTimeoutMs,
      requestTimeout: config.httpRequestTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.httpHeadersTimeoutMs / 4))),
    },
    (req, res) => {
      if (!concurrency.admit(req, res)) {
        answerTooManyRequests(req, res);
        return;
      }
      handler(req, res);
    },
  );
  server.keepAliveTimeout = 75_000;
  return server;
}

const RETRY_AFTER_SECONDS = '1';

function answerTooManyRequests(req: http.IncomingMessage, res: http.ServerResponse): void {
  const message = 'Too many concurrent requests from this client; retry when an earlier one has been answered.';
  if (req.url?.startsWith('/v1/') || req.url === '/v1') {
    const writer = req.url.startsWith('/v1/messages') ? anthropicResponseWriter : openAIResponseWriter;
    writer.writeRequestError(res, 429, { message, code: 'too_many_concurrent_requests' }, { requestId: mintRequestId() }, { 'retry-after': RETRY_AFTER_SECONDS });
    return;
  }
  const json = JSON.stringify(new AppError(ErrorCode.RateLimited, message).toBody());
  res.writeHead(429, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json), 'retry-after': RETRY_AFTER_SECONDS });
  res.end(json);
}

import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * Errors on /v1 answer in OpenAI's format; its spec requires `param` and `code` on every error
 * object (null allowed), and strict clients fail without them.
 */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function openAIError(message: string, type: string, code: string | null = null, param: string | null = null): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

export function sendOpenAIError(reply: FastifyReply, status: number, body: OpenAIErrorBody, headers: Record<string, string> = {}): FastifyReply {
  return reply.status(status).headers({ ...headers, 'content-type': 'application/json' }).send(body);
}

/** The same answer written on node:http's response (the /v1 front door works without Fastify). */
export function writeOpenAIError(res: ServerResponse, status: number, body: OpenAIErrorBody, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const json = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

/** The `type` OpenAI uses for each status. */
export function openAIErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

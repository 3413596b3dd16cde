import { Injectable } from '@nestjs/common';
import type { FastifyError, FastifyInstance } from 'fastify';
import { ReadModelService } from '../read-model/read-model.service.js';
import { ChatCompletionsHandler } from './chat-completions.handler.js';
import { openAIError, openAIErrorType, sendOpenAIError } from './openai-error.js';

/**
 * The OpenAI-compatible /v1 routes that Fastify serves, registered straight on it (no Nest
 * pipeline) in their own encapsulated context, so their errors answer in OpenAI's format.
 * POST /v1/chat/completions never reaches Fastify: V1FrontDoor serves it from node:http.
 */
@Injectable()
export class V1Routes {
  constructor(
    private readonly chat: ChatCompletionsHandler,
    private readonly readModel: ReadModelService,
  ) {}

  register(fastify: FastifyInstance): void {
    void fastify.register(
      async (v1) => {
        v1.setErrorHandler((error: FastifyError, _request, reply) => {
          const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
          const message = status >= 500 ? 'internal error' : error.message;
          sendOpenAIError(reply, status, openAIError(message, openAIErrorType(status), error.code ?? null));
        });
        v1.setNotFoundHandler((request, reply) => {
          sendOpenAIError(reply, 404, openAIError(`Unknown request URL: ${request.method} ${request.url.split('?')[0]}.`, 'invalid_request_error', 'unknown_url'));
        });
        v1.get('/models', (request, reply) => {
          const principal = this.chat.authenticate(request.headers);
          if ('error' in principal) {
            sendOpenAIError(reply, 401, principal);
            return;
          }
          const data = this.readModel.modelsFor(principal).map((m) => ({
            id: m.name,
            object: 'model',
            created: Math.floor(Date.parse(m.createdAt) / 1000),
            owned_by: m.organisationId,
          }));
          void reply.send({ object: 'list', data });
        });
      },
      { prefix: '/v1' },
    );
  }
}

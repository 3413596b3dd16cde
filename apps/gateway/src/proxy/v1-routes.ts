import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { JsonBodyParser } from '../edge/json-body.js';
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
    @Inject(APP_CONFIG) private readonly config: Readonly<AppConfig>,
  ) {}

  /** @param jsonParser the gateway's bounded JSON parser (see edge/json-body.ts), used here with /v1's body limit */
  register(fastify: FastifyInstance, jsonParser: JsonBodyParser): void {
    void fastify.register(
      async (v1) => {
        // /v1 bodies (prompts with images) may be larger than /admin's: the same parser, /v1's limit.
        v1.removeContentTypeParser('application/json');
        v1.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: this.config.v1MaxBodyBytes }, jsonParser);
        v1.setErrorHandler((error: FastifyError, _request, reply) => {
          const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
          const message = status >= 500 ? 'internal error' : error.message;
          const code = status === 413 ? 'request_too_large' : (error.code ?? null);
          const param = status === 413 || code === 'json_limit_exceeded' ? 'body' : null;
          sendOpenAIError(reply, status, openAIError(message, openAIErrorType(status), code, param));
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

import { Body, Controller, Get, Inject, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { AppError, CreatePlaygroundRunDto, CreatePlaygroundSessionDto, PlaygroundRunView, PlaygroundSessionView, type PlaygroundStreamCommand } from '#libs/contracts';
import { newId } from '#libs/db';
import type { FastifyReply } from 'fastify';
import { ListQueryDto, PageOf } from '../admin/list-query.dto.js';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, type Principal } from '../auth/principal.js';
import { PlaygroundStreams } from './playground-streams.js';

const SSE_DESCRIPTION =
  'Answers text/event-stream: `session` {id, models} first; then per model, interleaved as they arrive, `start` {model}, `delta` {model, text} and ' +
  '`done` {model, result: PlaygroundModelResultView}; last `end` {session: PlaygroundSessionView} (the saved session) or `error` {error}. A model that ' +
  'fails ends with its own `done` (status failed); the others go on.';

/**
 * Playground: the evaluator runs prompts through this gateway's /v1 API with a delegated token
 * acting as the caller (delegation/delegated-tokens.ts), never with the caller's key.
 */
@ApiTags('playground')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/playground')
export class PlaygroundController {
  constructor(
    private readonly bus: BusClient,
    private readonly streams: PlaygroundStreams,
    @Inject(APP_CONFIG) private readonly config: Readonly<AppConfig>,
  ) {}

  @Post('runs')
  @ApiOperation({ summary: 'Run a prompt against a model through the gateway; the call is routed and metered like any other' })
  @ApiCreatedResponse({ type: PlaygroundRunView })
  run(@CurrentPrincipal() p: Principal, @Body() body: CreatePlaygroundRunDto): Promise<PlaygroundRunView> {
    return this.bus.request('evaluator.v1.playground.run', envelopeFor(p, { run: body }), this.config.upstreamTimeoutMs + 5_000);
  }

  @Post('sessions')
  @ApiOperation({ summary: 'Run one prompt (messages, parameters, tools) against several models at once, streaming the answers side by side', description: SSE_DESCRIPTION })
  @ApiProduces('text/event-stream')
  @ApiCreatedResponse({ description: 'An SSE stream; see the description.' })
  async session(@CurrentPrincipal() p: Principal, @Body() body: CreatePlaygroundSessionDto, @Res() reply: FastifyReply): Promise<void> {
    await this.relay(p, reply, { sessionId: newId('pgs'), session: body }, body.models);
  }

  @Post('sessions/:id/rerun')
  @ApiOperation({ summary: 'Run a saved session\'s prompt again on the same models, as a new session', description: SSE_DESCRIPTION })
  @ApiProduces('text/event-stream')
  @ApiCreatedResponse({ description: 'An SSE stream; see the description.' })
  async rerun(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Res() reply: FastifyReply): Promise<void> {
    const saved = await this.bus.request('evaluator.v1.playground.sessions.get', envelopeFor(p, { id }));
    await this.relay(p, reply, { sessionId: newId('pgs'), rerunOf: saved.id }, saved.request.models);
  }

  @Get('sessions')
  @ApiOperation({ summary: 'Saved sessions, newest first' })
  @ApiOkResponse({ type: PageOf(PlaygroundSessionView) })
  list(@CurrentPrincipal() p: Principal, @Query() query: ListQueryDto) {
    return this.bus.request('evaluator.v1.playground.sessions.list', envelopeFor(p, { limit: query.limit, cursor: query.cursor }));
  }

  @Get('sessions/:id')
  @ApiOperation({ summary: 'A saved session with each model\'s answer, latency, time to first token, tokens and cost' })
  @ApiOkResponse({ type: PlaygroundSessionView })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<PlaygroundSessionView> {
    return this.bus.request('evaluator.v1.playground.sessions.get', envelopeFor(p, { id }));
  }

  /**
   * Opens the SSE stream, relays the evaluator's live events for the session, and ends with the
   * saved session (the command's reply), which is complete even if a live event was lost.
   */
  private async relay(p: Principal, reply: FastifyReply, command: PlaygroundStreamCommand, models: string[]): Promise<void> {
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = (event: string, data: unknown) => {
      if (!raw.writableEnded && !raw.destroyed) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    send('session', { id: command.sessionId, models });
    const close = this.streams.open(command.sessionId, (e) => {
      if (e.type === 'start') send('start', { model: e.model });
      else if (e.type === 'delta') send('delta', { model: e.model, text: e.text });
      else send('done', { model: e.model, result: e.result });
    });
    try {
      const session = await this.bus.request('evaluator.v1.playground.stream', envelopeFor(p, command), this.config.upstreamTimeoutMs + 10_000);
      send('end', { session });
    } catch (err) {
      const error = err instanceof AppError ? { code: err.code, message: err.message } : { code: 'internal', message: 'the playground session failed' };
      send('error', { error });
    } finally {
      close();
      raw.end();
    }
  }
}

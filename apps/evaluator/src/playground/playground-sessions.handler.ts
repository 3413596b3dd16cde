import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { checkedEnvelope, CommandHandler, idOf, validInput } from '#libs/bus';
import { AppError, CreatePlaygroundSessionDto, ListInputDto, QUEUE_GROUPS, type CommandResponse, type PlaygroundStreamCommand } from '#libs/contracts';
import { PlaygroundSessionsService } from './playground-sessions.service.js';

/** evaluator.v1.playground.stream and the saved sessions. */
@Controller()
export class PlaygroundSessionsHandler {
  constructor(private readonly sessions: PlaygroundSessionsService) {}

  @CommandHandler('evaluator.v1.playground.stream', QUEUE_GROUPS.evaluator)
  async stream(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.playground.stream'>> {
    const envelope = checkedEnvelope(payload);
    const input = (envelope.input ?? {}) as Partial<PlaygroundStreamCommand>;
    if (typeof input.sessionId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(input.sessionId)) {
      throw AppError.validation([{ field: 'sessionId', messages: ['sessionId must be 1-64 letters, digits, _ or -'] }]);
    }
    if (input.rerunOf !== undefined) return this.sessions.stream({ ...envelope, input: { sessionId: input.sessionId, rerunOf: idOf({ id: input.rerunOf }) } });
    const session = await validInput(CreatePlaygroundSessionDto, input.session);
    return this.sessions.stream({ ...envelope, input: { sessionId: input.sessionId, session } });
  }

  @CommandHandler('evaluator.v1.playground.sessions.list', QUEUE_GROUPS.evaluator)
  async list(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.playground.sessions.list'>> {
    const envelope = checkedEnvelope(payload);
    return this.sessions.list(envelope.scope, await validInput(ListInputDto, envelope.input ?? {}));
  }

  @CommandHandler('evaluator.v1.playground.sessions.get', QUEUE_GROUPS.evaluator)
  async get(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.playground.sessions.get'>> {
    const envelope = checkedEnvelope(payload);
    return this.sessions.get(envelope.scope, idOf(envelope.input));
  }
}

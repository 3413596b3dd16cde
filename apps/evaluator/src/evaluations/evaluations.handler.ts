import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { checkedEnvelope, CommandHandler, idOf, validInput } from '#libs/bus';
import { AppError, CreateEvaluationRunDto, ListInputDto, QUEUE_GROUPS, type CommandResponse } from '#libs/contracts';
import { EvaluationsService } from './evaluations.service.js';

/** evaluator.v1.evaluations.*: checks the envelope and the input, asks the service. */
@Controller()
export class EvaluationsHandler {
  constructor(private readonly evaluations: EvaluationsService) {}

  @CommandHandler('evaluator.v1.evaluations.create', QUEUE_GROUPS.evaluator)
  async create(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.evaluations.create'>> {
    const envelope = checkedEnvelope(payload);
    return this.evaluations.create({ ...envelope, input: await validInput(CreateEvaluationRunDto, envelope.input) });
  }

  @CommandHandler('evaluator.v1.evaluations.list', QUEUE_GROUPS.evaluator)
  async list(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.evaluations.list'>> {
    const envelope = checkedEnvelope(payload);
    return this.evaluations.list(envelope.scope, await validInput(ListInputDto, envelope.input ?? {}));
  }

  @CommandHandler('evaluator.v1.evaluations.get', QUEUE_GROUPS.evaluator)
  async get(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.evaluations.get'>> {
    const envelope = checkedEnvelope(payload);
    return this.evaluations.get(envelope.scope, idOf(envelope.input));
  }

  @CommandHandler('evaluator.v1.evaluations.results', QUEUE_GROUPS.evaluator)
  async results(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.evaluations.results'>> {
    const envelope = checkedEnvelope(payload);
    const id = idOf(envelope.input);
    const page = await validInput(ListInputDto, envelope.input);
    return this.evaluations.results(envelope.scope, { id, limit: page.limit, cursor: page.cursor });
  }

  @CommandHandler('evaluator.v1.evaluations.cancel', QUEUE_GROUPS.evaluator)
  async cancel(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.evaluations.cancel'>> {
    const envelope = checkedEnvelope(payload);
    return this.evaluations.cancel({ ...envelope, input: { id: idOf(envelope.input) } });
  }

  @CommandHandler('evaluator.v1.evaluations.compare', QUEUE_GROUPS.evaluator)
  async compare(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.evaluations.compare'>> {
    const envelope = checkedEnvelope(payload);
    const input = envelope.input as { runIds?: unknown; limit?: unknown; cursor?: unknown } | undefined;
    const runIds = input?.runIds;
    if (!Array.isArray(runIds) || runIds.length < 2 || runIds.length > 10 || runIds.some((id) => typeof id !== 'string' || id === '' || id.length > 64)) {
      throw AppError.validation([{ field: 'runIds', messages: ['runIds must name 2 to 10 runs'] }]);
    }
    const page = await validInput(ListInputDto, { limit: input?.limit, cursor: input?.cursor });
    return this.evaluations.compare(envelope.scope, { runIds: runIds as string[], limit: page.limit, cursor: page.cursor });
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { checkedEnvelope, CommandHandler, validInput } from '#libs/bus';
import { CreatePlaygroundRunDto, QUEUE_GROUPS, type CommandResponse, type PlaygroundRunCommand } from '#libs/contracts';
import { PlaygroundService } from './playground.service.js';

@Controller()
export class PlaygroundHandler {
  constructor(private readonly playground: PlaygroundService) {}

  @CommandHandler('evaluator.v1.playground.run', QUEUE_GROUPS.evaluator)
  async run(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.playground.run'>> {
    const envelope = checkedEnvelope(payload);
    const input = envelope.input as Partial<PlaygroundRunCommand> | undefined;
    const run = await validInput(CreatePlaygroundRunDto, input?.run);
    return this.playground.run({ ...envelope, input: { run } });
  }
}

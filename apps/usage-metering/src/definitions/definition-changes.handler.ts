import { Controller, Logger } from '@nestjs/common';
import { ChangeEventHandler } from '#libs/bus';
import { DefinitionsReadModel } from './definitions-read-model.js';

/**
 * Every replica hears every definition change (a plain subscription, no queue group): each keeps its
 * own read model. Re-pricing follows from the reload (see UnpricedRecordsRepricer).
 */
@Controller()
export class DefinitionChangesHandler {
  private readonly logger = new Logger(DefinitionChangesHandler.name);

  constructor(private readonly definitions: DefinitionsReadModel) {}

  @ChangeEventHandler('registry.v1.events.model-definition-changed')
  async definitionChanged(): Promise<void> {
    await this.definitions.reload().catch((e: unknown) => this.logger.warn(`model definitions reload failed: ${String(e)}`));
  }
}

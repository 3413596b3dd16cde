import { Controller, Logger } from '@nestjs/common';
import { ChangeEventHandler } from '#libs/bus';
import type { ChangeEvent } from '#libs/contracts';
import { Payload } from '@nestjs/microservices';
import { ReadModelService } from './read-model.service.js';

/** Every gateway replica hears every change (no queue group) and updates its read model. */
@Controller()
export class ChangeEventsHandler {
  private readonly logger = new Logger(ChangeEventsHandler.name);

  constructor(private readonly readModel: ReadModelService) {}

  @ChangeEventHandler('vault.v1.events.connection-changed')
  async connectionChanged(): Promise<void> {
    await this.readModel.refresh('connections').catch((e: unknown) => this.logger.warn(`connections refresh failed: ${String(e)}`));
  }

  @ChangeEventHandler('registry.v1.events.provider-model-changed')
  async providerModelChanged(): Promise<void> {
    await this.readModel.refresh('providerModels').catch((e: unknown) => this.logger.warn(`provider models refresh failed: ${String(e)}`));
  }

  @ChangeEventHandler('registry.v1.events.model-definition-changed')
  async modelDefinitionChanged(): Promise<void> {
    await this.readModel.refresh('tokenizers').catch((e: unknown) => this.logger.warn(`model definition tokenizers refresh failed: ${String(e)}`));
  }

  @ChangeEventHandler('registry.v1.events.model-rewrite-rule-changed')
  async rewriteRuleChanged(): Promise<void> {
    await this.readModel.refresh('rewriteRules').catch((e: unknown) => this.logger.warn(`rewrite rules refresh failed: ${String(e)}`));
  }

  @ChangeEventHandler('gateway.v1.events.gateway-key-changed')
  async keyChanged(@Payload() event: ChangeEvent): Promise<void> {
    await this.readModel.refreshKey(event.id).catch((e: unknown) => this.logger.warn(`key refresh failed: ${String(e)}`));
  }
}

import { Injectable } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import type { ModelDefinitionView } from '#libs/contracts';

/** The model registry, as the definitions read model sees it: every organisation's definitions. */
@Injectable()
export class RegistryDefinitions {
  constructor(private readonly bus: BusClient) {}

  fetchAll(): Promise<ModelDefinitionView[]> {
    return this.bus.request('registry.v1.model-definitions.all', {});
  }
}

import { Module, type DynamicModule } from '@nestjs/common';
import { ProviderModelManagedBy1796970000000 } from './migrations/1796970000000-provider-model-managed-by.js';
import { AuditLogHandler } from './audit/audit-log.handler.js';
import { AuditLog, AuditLogRowEntity } from '#libs/db';
import { Clock, type RunningService, serviceInfrastructure, type ServiceRuntime, startBusService } from '#libs/runtime';
import { SystemCatalogue } from './catalogue/system-catalogue.js';
import { PingHandler } from './health/ping.handler.js';
import { LastUsedHandler } from './last-used/last-used.handler.js';
import { LastUsedRepository } from './last-used/last-used.repository.js';
import { Initial1732360000000 } from './migrations/1732360000000-initial.js';
import { RegistryAuditLog1733560000000 } from './migrations/1733560000000-audit-log.js';
import { ProviderModelRouting1765090000000 } from './migrations/1765090000000-provider-model-routing.js';
import { DefinitionTiersSources1796950000000 } from './migrations/1796950000000-definition-tiers-sources.js';
import { ModelDefinitionEntity } from './model-definitions/model-definition.entity.js';
import { ModelDefinitionsHandler } from './model-definitions/model-definitions.handler.js';
import { ModelDefinitionsRepository } from './model-definitions/model-definitions.repository.js';
import { ModelDefinitionsService } from './model-definitions/model-definitions.service.js';
import { ModelPriceEntity } from './model-definitions/model-price.entity.js';
import { ModelPriceTierEntity } from './model-definitions/model-price-tier.entity.js';
import { ModelRewriteRuleEntity } from './model-rewrite-rules/model-rewrite-rule.entity.js';
import { ModelRewriteRulesHandler } from './model-rewrite-rules/model-rewrite-rules.handler.js';
import { ModelRewriteRulesRepository } from './model-rewrite-rules/model-rewrite-rules.repository.js';
import { ModelRewriteRulesService } from './model-rewrite-rules/model-rewrite-rules.service.js';
import { ProviderModelEntity } from './provider-models/provider-model.entity.js';
import { ProviderModelsHandler } from './provider-models/provider-models.handler.js';
import { ProviderModelsRepository } from './provider-models/provider-models.repository.js';
import { ProviderModelsService } from './provider-models/provider-models.service.js';
import { VaultConnections } from './provider-models/vault-connections.js';

export const REGISTRY_SCHEMA = 'registry';

@Module({})
export class ModelRegistryModule {
  static async forRuntime(runtime: ServiceRuntime): Promise<DynamicModule> {
    const infrastructure = await serviceInfrastructure(runtime, {
      schema: REGISTRY_SCHEMA,
      entities: [ProviderModelEntity, ModelDefinitionEntity, ModelPriceEntity, ModelPriceTierEntity, ModelRewriteRuleEntity, AuditLogRowEntity],
      migrations: [Initial1732360000000, RegistryAuditLog1733560000000, ProviderModelRouting1765090000000, DefinitionTiersSources1796950000000, ProviderModelManagedBy1796970000000],
    });
    return {
      module: ModelRegistryModule,
      imports: infrastructure,
      controllers: [PingHandler, AuditLogHandler, ProviderModelsHandler, ModelDefinitionsHandler, LastUsedHandler, ModelRewriteRulesHandler],
      providers: [
        Clock,
        AuditLog,
        VaultConnections,
        ProviderModelsRepository,
        ProviderModelsService,
        ModelDefinitionsRepository,
        ModelDefinitionsService,
        SystemCatalogue,
        LastUsedRepository,
        ModelRewriteRulesRepository,
        ModelRewriteRulesService,
      ],
    };
  }
}

export async function startModelRegistry(runtime: ServiceRuntime): Promise<RunningService> {
  return startBusService('model-registry', await ModelRegistryModule.forRuntime(runtime), runtime);
}

import type { KeySpendEvent, KeySpendQuery, KeySpendTotals } from './key-spend.js';
import type {
  ConnectionView,
  CreateConnectionDto,
  ListConnectionsInput,
  RecordConnectionTestDto,
  ResolvedConnection,
  ResolvedConnectionPage,
  ResolvePageInput,
  RevealedConnectionView,
  UpdateConnectionInput,
} from './connections.js';
import type { AddPriceVersionDto, CreateModelDefinitionDto, DefinitionTokenizerView, LastUsedBatch, ListModelDefinitionsDto, ModelDefinitionView, PricePreviewView, PreviewQueryDto, UpdateModelDefinitionDto } from './model-definitions.js';
import type { AddDatasetRowsInput, CreateDatasetDto, DatasetRowsInput, DatasetRowView, DatasetUploadView, DatasetView, UploadDatasetRowsInput } from './datasets.js';
import type { CompareRunsInput, CreateEvaluationRunDto, EvaluationResultsInput, EvaluationResultView, EvaluationRunView, RunComparisonView } from './evaluations.js';
import type { PlaygroundRunCommand, PlaygroundRunView, PlaygroundSessionView, PlaygroundStreamCommand, PlaygroundStreamEvent } from './playground.js';
import type { CreateModelRewriteRuleDto, ModelRewriteRuleView, UpdateModelRewriteRuleInput } from './model-rewrite-rules.js';
import type { CreateProviderModelDto, ProviderModelView, UpdateProviderModelInput } from './provider-models.js';
import type { AuditLogEntryView, AuditLogListInput } from './audit-log.js';
import type { ConfigExportView, ConfigImportReportView, MasterKeyRotationView, RotateMasterKeyDto } from './vault-admin.js';
import type { CommandEnvelope, IdInput, ListInput, Page, TenantScope } from './scope.js';
import type { SpanBatch } from './telemetry.js';
import type { CostReportView, CostsQueryDto, RepriceResultView, UsageRecordsPageView, UsageRecordsQueryDto, UsageRecordView } from './usage.js';

/**
 * Every request/reply subject of the bus with its request and response types.
 * Versioned in the name; a field is added, never changed.
 */
export interface Commands {
  'vault.v1.connections.create': { request: CommandEnvelope<CreateConnectionDto>; response: ConnectionView };
  'vault.v1.connections.list': { request: CommandEnvelope<ListConnectionsInput>; response: Page<ConnectionView> };
  'vault.v1.connections.get': { request: CommandEnvelope<IdInput>; response: ConnectionView };
  'vault.v1.connections.update': { request: CommandEnvelope<UpdateConnectionInput>; response: ConnectionView };
  /** The gateway ran a connection test: the vault sets the status (active or error) and audits it. */
  'vault.v1.connections.record-test': { request: CommandEnvelope<RecordConnectionTestDto>; response: ConnectionView };
  'vault.v1.connections.delete': { request: CommandEnvelope<IdInput>; response: { deleted: true } };
  'vault.v1.connections.reveal': { request: CommandEnvelope<IdInput>; response: RevealedConnectionView };
  /** The gateway's read model: every connection of every organisation, credentials decrypted. */
  'vault.v1.connections.resolve-all': { request: Record<string, never>; response: ResolvedConnection[] };
  /** Issue 16.6: take the new master key and re-wrap every data key under it, while calls go on. */
  'vault.v1.master-key.rotate': { request: CommandEnvelope<RotateMasterKeyDto>; response: MasterKeyRotationView };
  /** Issue 16.5: the vault's audit entries of the caller's organisation (and project), for GET /admin/audit-log. */
  'vault.v1.audit-log.list': { request: CommandEnvelope<AuditLogListInput>; response: AuditLogEntryView[] };
  /** Issue 16.4: import CONFIG_DIR's backend files into the caller's organisation (connections here, models through the registry). */
  'vault.v1.config.import': { request: CommandEnvelope<Record<string, never>>; response: ConfigImportReportView };
  /** Issue 16.4: the organisation's connections and their models in the import format, without secrets. */
  'vault.v1.config.export': { request: CommandEnvelope<Record<string, never>>; response: ConfigExportView };
  /** Issue 16.8: the read model's load page by page (any number of connections; one message each stays small). */
  'vault.v1.connections.resolve-page': { request: ResolvePageInput; response: ResolvedConnectionPage };
  'vault.v1.ping': { request: Record<string, never>; response: { service: string; ok: true } };

  /** Issue 16.5: the registry's audit entries of the caller's organisation (and project). */
  'registry.v1.audit-log.list': { request: CommandEnvelope<AuditLogListInput>; response: AuditLogEntryView[] };
  'registry.v1.provider-models.create': { request: CommandEnvelope<CreateProviderModelDto>; response: ProviderModelView };
  'registry.v1.provider-models.list': { request: CommandEnvelope<ListInput>; response: Page<ProviderModelView> };
  'registry.v1.provider-models.get': { request: CommandEnvelope<IdInput>; response: ProviderModelView };
  'registry.v1.provider-models.update': { request: CommandEnvelope<UpdateProviderModelInput>; response: ProviderModelView };
  'registry.v1.provider-models.delete': { request: CommandEnvelope<IdInput>; response: { deleted: true } };
  'registry.v1.provider-models.all': { request: Record<string, never>; response: ProviderModelView[] };
  'registry.v1.model-rewrite-rules.create': { request: CommandEnvelope<CreateModelRewriteRuleDto>; response: ModelRewriteRuleView };
  'registry.v1.model-rewrite-rules.list': { request: CommandEnvelope<ListInput>; response: Page<ModelRewriteRuleView> };
  'registry.v1.model-rewrite-rules.get': { request: CommandEnvelope<IdInput>; response: ModelRewriteRuleView };
  'registry.v1.model-rewrite-rules.update': { request: CommandEnvelope<UpdateModelRewriteRuleInput>; response: ModelRewriteRuleView };
  'registry.v1.model-rewrite-rules.delete': { request: CommandEnvelope<IdInput>; response: { deleted: true } };
  /** The gateway's read model: every organisation's rewrite rules, in the order they apply. */
  'registry.v1.model-rewrite-rules.all': { request: Record<string, never>; response: ModelRewriteRuleView[] };
  'registry.v1.model-definitions.create': { request: CommandEnvelope<CreateModelDefinitionDto>; response: ModelDefinitionView };
  'registry.v1.model-definitions.list': { request: CommandEnvelope<ListModelDefinitionsDto>; response: Page<ModelDefinitionView> };
  'registry.v1.model-definitions.get': { request: CommandEnvelope<IdInput>; response: ModelDefinitionView };
  'registry.v1.model-definitions.delete': { request: CommandEnvelope<IdInput>; response: { deleted: true } };
  'registry.v1.model-definitions.all': { request: Record<string, never>; response: ModelDefinitionView[] };
  'registry.v1.model-definitions.tokenizers': { request: Record<string, never>; response: DefinitionTokenizerView[] };
  'registry.v1.model-definitions.update': { request: CommandEnvelope<UpdateModelDefinitionDto & IdInput>; response: ModelDefinitionView };
  'registry.v1.model-definitions.add-version': { request: CommandEnvelope<AddPriceVersionDto & IdInput>; response: ModelDefinitionView };
  'registry.v1.model-definitions.preview': { request: CommandEnvelope<PreviewQueryDto & IdInput>; response: PricePreviewView };
  /** Metering's latest call per definition and gateway model, one request per flush of batches: the registry writes it in one transaction. */
  'registry.v1.last-used.record': { request: LastUsedBatch; response: { definitions: number; providerModels: number } };
  'registry.v1.ping': { request: Record<string, never>; response: { service: string; ok: true } };

  'metering.v1.costs.report': { request: CommandEnvelope<CostsQueryDto>; response: CostReportView };
  'metering.v1.records.list': { request: CommandEnvelope<UsageRecordsQueryDto>; response: UsageRecordsPageView };
  'metering.v1.records.get': { request: CommandEnvelope<IdInput>; response: UsageRecordView };
  'metering.v1.unpriced.reprice': { request: CommandEnvelope<Record<string, never>>; response: RepriceResultView };
  /** Priced cost per trace id within the caller's scope (the evaluator reads its rows' costs by the trace ids it sent). */
  'metering.v1.usage.by-traces': { request: CommandEnvelope<TraceCostsInput>; response: TraceCostsView };
  'metering.v1.ping': { request: Record<string, never>; response: { service: string; ok: true } };
  /** A gateway replica's start: every key's priced spend per UTC day since a day (key budgets). */
  'metering.v1.key-spend.current': { request: KeySpendQuery; response: KeySpendTotals };

  /**
   * The evaluator asks a gateway for a short-lived token to call /v1 on behalf of an admin (the
   * actor), inside that admin's scope; see apps/gateway/src/delegation/delegated-tokens.ts.
   */
  'gateway.v1.delegations.mint': { request: CommandEnvelope<Record<string, never>>; response: DelegatedTokenView };

  /** Runs a prompt through the gateway's /v1 API (over HTTP, as any client) and keeps the result. */
  'evaluator.v1.playground.run': { request: CommandEnvelope<PlaygroundRunCommand>; response: PlaygroundRunView };
  /** Runs one prompt against several models, publishing their streams as evaluator.v1.events.playground-stream; answers with the saved session. */
  'evaluator.v1.playground.stream': { request: CommandEnvelope<PlaygroundStreamCommand>; response: PlaygroundSessionView };
  'evaluator.v1.playground.sessions.list': { request: CommandEnvelope<ListInput>; response: Page<PlaygroundSessionView> };
  'evaluator.v1.playground.sessions.get': { request: CommandEnvelope<IdInput>; response: PlaygroundSessionView };
  'evaluator.v1.datasets.create': { request: CommandEnvelope<CreateDatasetDto>; response: DatasetView };
  'evaluator.v1.datasets.list': { request: CommandEnvelope<ListInput>; response: Page<DatasetView> };
  'evaluator.v1.datasets.get': { request: CommandEnvelope<IdInput>; response: DatasetView };
  'evaluator.v1.datasets.add-rows': { request: CommandEnvelope<AddDatasetRowsInput>; response: DatasetView };
  'evaluator.v1.datasets.upload': { request: CommandEnvelope<UploadDatasetRowsInput>; response: DatasetUploadView };
  'evaluator.v1.datasets.rows': { request: CommandEnvelope<DatasetRowsInput>; response: Page<DatasetRowView> };
  'evaluator.v1.evaluations.create': { request: CommandEnvelope<CreateEvaluationRunDto>; response: EvaluationRunView };
  'evaluator.v1.evaluations.list': { request: CommandEnvelope<ListInput>; response: Page<EvaluationRunView> };
  'evaluator.v1.evaluations.get': { request: CommandEnvelope<IdInput>; response: EvaluationRunView };
  'evaluator.v1.evaluations.results': { request: CommandEnvelope<EvaluationResultsInput>; response: Page<EvaluationResultView> };
  'evaluator.v1.evaluations.cancel': { request: CommandEnvelope<IdInput>; response: EvaluationRunView };
  'evaluator.v1.evaluations.compare': { request: CommandEnvelope<CompareRunsInput>; response: RunComparisonView };
  'evaluator.v1.ping': { request: Record<string, never>; response: { service: string; ok: true } };
}

export type ChangeKind = 'created' | 'updated' | 'deleted';

export interface ChangeEvent {
  id: string;
  scope: TenantScope;
  change: ChangeKind;
  at: string;
}

/** Plain pub/sub change events: every replica of every interested service sees each one. */
export interface Events {
  'vault.v1.events.connection-changed': ChangeEvent;
  'registry.v1.events.provider-model-changed': ChangeEvent;
  'registry.v1.events.model-rewrite-rule-changed': ChangeEvent;
  'registry.v1.events.model-definition-changed': ChangeEvent;
  'gateway.v1.events.gateway-key-changed': ChangeEvent;
  /** A playground session's live stream pieces; the gateway replica holding the session's client relays them (the final state comes as the command's reply). */
  'evaluator.v1.events.playground-stream': PlaygroundStreamEvent;
  /** Priced cost per key and day of newly stored usage records, batched (key budgets). */
  'metering.v1.events.key-spend': KeySpendEvent;
}

/** JetStream subjects: durable, at-least-once, de-duplicated by message id. */
export interface DurableMessages {
  'telemetry.v1.spans': SpanBatch;
}

export type CommandSubject = keyof Commands;
export type EventSubject = keyof Events;
export type DurableSubject = keyof DurableMessages;
export type CommandRequest<S extends CommandSubject> = Commands[S]['request'];
export type CommandResponse<S extends CommandSubject> = Commands[S]['response'];

/** The JetStream stream that holds telemetry, and where poison messages go. */
export const TELEMETRY_STREAM = { name: 'TELEMETRY', subjects: ['telemetry.v1.>'], deadLetterSubject: 'telemetry.v1.dead-letter' } as const;

/** Queue group per owning service: one replica answers each command. */
export const QUEUE_GROUPS = {
  vault: 'credential-vault',
  registry: 'model-registry',
  metering: 'usage-metering',
  evaluator: 'evaluator',
  gateway: 'gateway',
} as const;

export interface TraceCostsInput {
  traceIds: string[];
}

export interface TraceCostsView {
  /** One entry per asked trace id that has usage records: the sum of its priced calls. */
  traces: { traceId: string; calls: number; unpricedCalls: number; cost: string | null }[];
}

export interface DelegatedTokenView {
  /** A bearer token for /v1 only, acting as the actor within the scope; never stored. */
  token: string;
  /** Where the gateway's /v1 API is reached. */
  gatewayUrl: string;
  expiresAt: string;
}

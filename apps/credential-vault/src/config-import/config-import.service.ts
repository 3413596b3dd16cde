import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AdapterRegistry } from '#libs/adapter-sdk';
import { BusClient } from '#libs/bus';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import {
  AppError,
  ErrorCode,
  type CommandEnvelope,
  type ConfigFileResultView,
  type ConfigImportReportView,
  type ConfigModelResultView,
  type ProviderModelView,
} from '#libs/contracts';
import { headerTemplateErrors } from '#libs/header-templates';
import { assertMayChange, attemptOf } from '#libs/tenancy';
import { UpstreamAddressPolicy } from '#libs/upstream-guard';
import type { AuditAction } from '../audit/audit-action.js';
import { AuditLogRepository, SYSTEM_ACTOR } from '../audit/audit-log.repository.js';
import { checkConnectionFields } from '../connections/connection-adapter-check.js';
import { ConnectionSecrets } from '../connections/connection-secrets.js';
import type { ConnectionEntity } from '../connections/connection.entity.js';
import { ConnectionsRepository } from '../connections/connections.repository.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { VaultTransactions } from '../connections/vault-transactions.js';
import { parseBackendFile, type BackendFile, type BackendModel, type ConfigFieldError } from './backend-file.js';
import { sameJson } from './same-json.js';

export const BACKENDS_DIR = 'backends';
const FILE_NAMES = ['backend.yaml', 'backend.yml'];

/** The client's field names in a refusal, as the file spells them. */
const FILE_FIELDS: Record<string, string> = {
  adapter: 'backend_type',
  baseUrl: 'api_base_url',
  apiKey: 'api_key_env_var',
  apiKeyEnvVar: 'api_key_env_var',
  headers: 'headers',
  'settings.authMode': 'auth_type',
  'settings.authHeader': 'auth_header',
  'settings.totalTimeoutMs': 'timeout',
  'settings.maxRetries': 'max_retries',
  'settings.retryDelayMs': 'retry_delay',
};

interface Plan {
  path: string;
  marker: string;
  file: BackendFile;
  existing: ConnectionEntity | null;
}

/**
 * Configuration as code (issue 16.4, seed 002): CONFIG_DIR/backends/<name>/backend.yaml files
 * become the connection <name> and its provider models, marked `config:<file>` so admins see where
 * they come from. Every file is checked whole (its shape, the adapter's rules, header templates,
 * the upstream address, names taken by entries not managed by that file) before anything is
 * written; an invalid one is reported by path and field and skipped whole. Writing compares with
 * what is stored, so importing the same files again changes nothing (no event, no audit entry).
 */
@Injectable()
export class ConfigImportService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ConfigImportService.name);
  private startup?: Promise<unknown>;
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: Readonly<AppConfig>,
    private readonly connections: ConnectionsService,
    private readonly rows: ConnectionsRepository,
    private readonly secrets: ConnectionSecrets,
    private readonly adapters: AdapterRegistry,
    private readonly upstreamAddresses: UpstreamAddressPolicy,
    private readonly bus: BusClient,
    private readonly audit: AuditLogRepository,
    private readonly transactions: VaultTransactions,
  ) {}

  /** On start, in the background: the registry may not answer yet, so the import is retried until it does. */
  onApplicationBootstrap(): void {
    this.startup = this.importAtStart();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.startup;
  }

  private async importAtStart(): Promise<void> {
    const command = { scope: { organisationId: this.config.organisationId, projectId: null }, actor: SYSTEM_ACTOR, input: {} };
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        let report: ConfigImportReportView;
        try {
          report = await this.importDirectory(command);
        } catch (err) {
          // Another replica is importing the same files right now: that one's import is this one's.
          if (err instanceof AppError && err.code === ErrorCode.Conflict) return;
          throw err;
        }
        if (report.found) this.logger.log(`configuration imported from ${report.directory}: ${report.files.map((f) => `${f.path} ${f.status}`).join(', ') || 'no backend files'}`);
        for (const f of report.files.filter((r) => r.errors?.length)) {
          this.logger.warn(`${f.path} ${f.status}: ${f.errors!.map((e) => `${e.field || '(file)'}: ${e.message}`).join('; ')}`);
        }
        return;
      } catch (err) {
        if (attempt >= 30) {
          this.logger.error(`configuration import at start gave up: ${(err as Error).message}`);
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(250 * attempt, 2000)));
      }
    }
  }

  /** One import at a time across vault replicas (several starting together import once; a concurrent command is a conflict). */
  async importDirectory(command: CommandEnvelope<unknown>): Promise<ConfigImportReportView> {
    const { scope } = command;
    // Files write organisation-wide entries: an organisation-wide admin only.
    assertMayChange(scope, { organisationId: scope.organisationId, projectId: null }, 'the configuration');
    const directory = path.resolve(this.config.configDir);
    if (!(await isDirectory(directory))) return { directory, found: false, files: [] };
    let report: ConfigImportReportView | undefined;
    const ran = await this.rows.withImportLock(async () => {
      report = await this.importLocked(command, directory);
    });
    if (!ran) throw new AppError(ErrorCode.Conflict, 'another configuration import is running; try again when it is done');
    return report!;
  }

  private async importLocked(command: CommandEnvelope<unknown>, directory: string): Promise<ConfigImportReportView> {
    const { scope } = command;
    const files = await this.backendFiles(directory);
    if (files === undefined) return { directory, found: false, files: [] };

    const models = (await this.bus.request('registry.v1.provider-models.all', {})).filter((m) => m.organisationId === scope.organisationId);
    const results: ConfigFileResultView[] = [];
    const plans: Plan[] = [];
    for (const { name, relative, text } of files) {
      const marker = `config:${relative}`;
      const parsed = text === undefined ? { ok: false as const, errors: [{ field: '', message: `no ${FILE_NAMES.join(' or ')} in ${BACKENDS_DIR}/${name}` }] } : parseBackendFile(name, text);
      const errors = parsed.ok ? await this.problems(scope.organisationId, parsed.file, marker, models) : parsed.errors;
      if (errors.length > 0 || !parsed.ok) results.push({ path: relative, status: 'invalid', errors });
      else plans.push({ path: relative, marker, file: parsed.file, existing: await this.rows.findByName(scope.organisationId, parsed.file.name) });
    }
    for (const plan of plans) results.push(await this.apply(command, plan, models));
    results.sort((a, b) => (a.path < b.path ? -1 : 1));

    const imported = results.filter((r) => r.status !== 'invalid' && r.status !== 'failed').map((r) => r.path);
    const invalid = results.filter((r) => r.status === 'invalid' || r.status === 'failed').map((r) => r.path);
    if (results.some((r) => r.status !== 'unchanged')) {
      const attempt = attemptOf<AuditAction>(command, 'config.imported', null, null);
      await this.transactions.run((manager) => this.audit.record({ ...attempt, details: { imported, invalid } }, manager));
    }
    return { directory, found: true, files: results };
  }

  /** backends/<name>/backend.yaml of every directory under CONFIG_DIR/backends, in name order; undefined when CONFIG_DIR does not exist. */
  private async backendFiles(directory: string): Promise<{ name: string; relative: string; text: string | undefined }[] | undefined> {
    if (!(await isDirectory(directory))) return undefined;
    const backends = path.join(directory, BACKENDS_DIR);
    if (!(await isDirectory(backends))) return [];
    const out: { name: string; relative: string; text: string | undefined }[] = [];
    for (const entry of (await readdir(backends, { withFileTypes: true })).filter((e) => e.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      let found: { relative: string; text: string } | undefined;
      for (const fileName of FILE_NAMES) {
        try {
          found = { relative: `${BACKENDS_DIR}/${entry.name}/${fileName}`, text: await readFile(path.join(backends, entry.name, fileName), 'utf8') };
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      out.push({ name: entry.name, relative: found?.relative ?? `${BACKENDS_DIR}/${entry.name}/${FILE_NAMES[0]}`, text: found?.text });
    }
    return out;
  }

  /** Everything that would refuse the file's writes, found before any is made. */
  private async problems(organisationId: string, file: BackendFile, marker: string, models: ProviderModelView[]): Promise<ConfigFieldError[]> {
    const errors: ConfigFieldError[] = [];
    try {
      const checked = checkConnectionFields(this.adapters, { adapter: file.adapter, baseUrl: file.baseUrl, settings: file.settings, secretEnvVars: file.secretEnvVars });
      if (checked.baseUrl !== '') {
        const refused = this.upstreamAddresses.checkUrl(checked.baseUrl);
        if (refused) errors.push({ field: 'api_base_url', message: refused.forField('api_base_url') });
      }
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== ErrorCode.ValidationFailed) throw err;
      for (const detail of (err.details ?? []) as { field: string; messages: string[] }[]) {
        for (const message of detail.messages) errors.push({ field: fileField(detail.field), message });
      }
    }
    for (const e of headerTemplateErrors(file.headers)) errors.push({ field: `headers.${e.header}`, message: e.message });
    const existing = await this.rows.findByName(organisationId, file.name);
    if (existing && existing.managedBy !== marker) {
      errors.push({ field: '', message: `a connection named ${file.name} already exists and is managed ${managedByText(existing.managedBy)}; rename the directory or delete that connection` });
    } else if (existing && existing.adapter !== file.adapter) {
      errors.push({ field: 'backend_type', message: `cannot change from ${existing.adapter} to ${file.adapter}: the adapter of a connection is fixed; delete the connection to re-create it` });
    }
    for (const model of file.models) {
      const taken = models.find((m) => m.name === model.name && m.projectId === null);
      if (taken && (taken.managedBy ?? null) !== marker) errors.push({ field: `models.${model.name}`, message: `a provider model named ${model.name} already exists and is managed ${managedByText(taken.managedBy ?? null)}` });
    }
    return errors;
  }

  private async apply(command: CommandEnvelope<unknown>, plan: Plan, models: ProviderModelView[]): Promise<ConfigFileResultView> {
    const { scope, actor } = command;
    const { file, marker } = plan;
    let connectionId: string | undefined;
    let status: ConfigFileResultView['status'] = 'unchanged';
    try {
      if (plan.existing === null) {
        const created = await this.connections.create({
          scope,
          actor,
          input: {
            name: file.name,
            adapter: file.adapter,
            ...(file.baseUrl !== undefined ? { baseUrl: file.baseUrl } : {}),
            headers: file.headers,
            settings: file.settings,
            secretEnvVars: file.secretEnvVars,
            managedBy: marker,
          },
        });
        connectionId = created.id;
        status = 'created';
      } else {
        connectionId = plan.existing.id;
        if (!this.sameConnection(plan.existing, file, marker)) {
          const removedSettings = Object.fromEntries(Object.keys(plan.existing.settings).filter((k) => !(k in file.settings)).map((k) => [k, null]));
          const removedVars = Object.fromEntries(Object.keys(plan.existing.secretEnvVars ?? {}).filter((k) => !(k in file.secretEnvVars)).map((k) => [k, null]));
          await this.connections.update({
            scope,
            actor,
            input: {
              id: plan.existing.id,
              ...(file.baseUrl !== undefined ? { baseUrl: file.baseUrl } : {}),
              headers: file.headers,
              settings: { ...removedSettings, ...file.settings },
              secretEnvVars: { ...removedVars, ...file.secretEnvVars },
              managedBy: marker,
            },
          });
          status = 'updated';
        }
      }
      const modelResults = await this.applyModels(command, connectionId, plan, models);
      if (status === 'unchanged' && modelResults.some((m) => m.status !== 'unchanged')) status = 'updated';
      return { path: plan.path, status, connectionId, models: modelResults };
    } catch (err) {
      const message = err instanceof AppError ? `${err.code}: ${err.message}` : 'internal error';
      if (!(err instanceof AppError)) this.logger.error(`importing ${plan.path} failed: ${(err as Error).stack ?? String(err)}`);
      return { path: plan.path, status: 'failed', ...(connectionId ? { connectionId } : {}), errors: [{ field: '', message }] };
    }
  }

  private async applyModels(command: CommandEnvelope<unknown>, connectionId: string, plan: Plan, models: ProviderModelView[]): Promise<ConfigModelResultView[]> {
    const { scope, actor } = command;
    const results: ConfigModelResultView[] = [];
    for (const model of plan.file.models) {
      const existing = models.find((m) => m.name === model.name && m.projectId === null);
      const fields = modelFields(model);
      if (!existing) {
        await this.bus.request('registry.v1.provider-models.create', {
          scope,
          actor,
          input: { name: model.name, connectionId, upstreamModel: model.upstreamModel, ...fields, managedBy: plan.marker } as never,
        });
        results.push({ name: model.name, status: 'created' });
      } else if (!sameModel(existing, connectionId, model)) {
        await this.bus.request('registry.v1.provider-models.update', {
          scope,
          actor,
          input: { id: existing.id, patch: { targets: [{ connectionId, upstreamModel: model.upstreamModel, weight: 1 }], ...fields }, managedBy: plan.marker },
        });
        results.push({ name: model.name, status: 'updated' });
      } else {
        results.push({ name: model.name, status: 'unchanged' });
      }
    }
    // A model this file managed and no longer lists goes with it.
    for (const gone of models.filter((m) => m.managedBy === plan.marker && !plan.file.models.some((f) => f.name === m.name))) {
      await this.bus.request('registry.v1.provider-models.delete', { scope, actor, input: { id: gone.id } });
      results.push({ name: gone.name, status: 'deleted' });
    }
    return results;
  }

  private sameConnection(row: ConnectionEntity, file: BackendFile, marker: string): boolean {
    const checked = checkConnectionFields(this.adapters, { adapter: file.adapter, baseUrl: file.baseUrl, settings: file.settings, secretEnvVars: file.secretEnvVars });
    if (row.baseUrl !== checked.baseUrl || !sameJson(row.settings, checked.settings) || !sameJson(row.secretEnvVars ?? {}, file.secretEnvVars)) return false;
    if (Object.keys(row.secretLast4 ?? {}).length > 0 || row.managedBy !== marker) return false;
    if (!sameJson([...row.headerNames].sort(), Object.keys(file.headers).sort())) return false;
    const stored = this.secrets.open(row, { ciphertext: row.secretCiphertext, wrappedDataKey: row.wrappedDataKey, masterKeyId: row.masterKeyId });
    return sameJson(stored.headers, file.headers);
  }
}

function modelFields(model: BackendModel) {
  return {
    contextWindow: model.contextWindow,
    maxInputTokens: model.maxInputTokens,
    maxOutputTokens: model.maxOutputTokens,
    requestsPerMinute: model.requestsPerMinute,
    tokensPerMinute: model.tokensPerMinute,
    defaultParameters: model.defaultParameters,
  };
}

function sameModel(existing: ProviderModelView, connectionId: string, model: BackendModel): boolean {
  const [target, ...more] = existing.targets;
  return (
    more.length === 0 &&
    target?.connectionId === connectionId &&
    target.upstreamModel === model.upstreamModel &&
    target.weight === 1 &&
    existing.contextWindow === model.contextWindow &&
    existing.maxInputTokens === model.maxInputTokens &&
    existing.maxOutputTokens === model.maxOutputTokens &&
    existing.requestsPerMinute === model.requestsPerMinute &&
    existing.tokensPerMinute === model.tokensPerMinute &&
    sameJson(existing.defaultParameters, model.defaultParameters)
  );
}

function fileField(field: string): string {
  if (FILE_FIELDS[field]) return FILE_FIELDS[field];
  if (field.startsWith('secretEnvVars.')) return `secret_env_vars.${field.slice('secretEnvVars.'.length)}`;
  return field;
}

function managedByText(managedBy: string | null): string {
  return managedBy === null ? 'through the admin API' : `by ${managedBy.slice('config:'.length)}`;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

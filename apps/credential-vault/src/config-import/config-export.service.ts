import { Injectable } from '@nestjs/common';
import { stringify } from 'yaml';
import { BusClient } from '#libs/bus';
import type { CommandEnvelope, ConfigExportFileView, ConfigExportView, ProviderModelView } from '#libs/contracts';
import { assertMayChange } from '#libs/tenancy';
import { ConnectionSecrets } from '../connections/connection-secrets.js';
import type { ConnectionEntity } from '../connections/connection.entity.js';
import { ConnectionsRepository } from '../connections/connections.repository.js';
import { BACKENDS_DIR } from './config-import.service.js';
import { CUSTOM_BACKEND_TYPE } from './backend-file.js';

/**
 * The organisation's connections and their provider models as backend.yaml files (the import's
 * format), without secrets: a key is exported as the environment variable it is read from, never
 * as a value. Importing the export of file-managed entries gives the same state.
 */
@Injectable()
export class ConfigExportService {
  constructor(
    private readonly rows: ConnectionsRepository,
    private readonly secrets: ConnectionSecrets,
    private readonly bus: BusClient,
  ) {}

  async export({ scope }: CommandEnvelope<unknown>): Promise<ConfigExportView> {
    // Header values are sealed like keys: only an organisation-wide admin (who may reveal them) exports.
    assertMayChange(scope, { organisationId: scope.organisationId, projectId: null }, 'the configuration');
    const models = (await this.bus.request('registry.v1.provider-models.all', {})).filter((m) => m.organisationId === scope.organisationId && m.projectId === null);
    const files: ConfigExportFileView[] = [];
    const notes: string[] = [];
    for (const row of await this.rows.allOfOrganisation(scope.organisationId)) {
      if (row.projectId !== null) continue;
      const path = `${BACKENDS_DIR}/${row.name}/backend.yaml`;
      const mine = models.filter((m) => m.targets.some((t) => t.connectionId === row.id));
      for (const m of mine.filter((m) => m.targets.length > 1)) notes.push(`${path}: provider model ${m.name} routes to several connections, which a backend file cannot hold; not exported`);
      files.push({ path, content: stringify(this.backendOf(row, mine.filter((m) => m.targets.length === 1), path, notes), { lineWidth: 0 }) });
    }
    return { files, notes };
  }

  private backendOf(row: ConnectionEntity, models: ProviderModelView[], path: string, notes: string[]): Record<string, unknown> {
    const { apiKey: keyVar, ...otherVars } = row.secretEnvVars ?? {};
    const stored = Object.keys(row.secretLast4 ?? {});
    if (stored.length > 0) notes.push(`${path}: ${stored.join(', ')} ${stored.length > 1 ? 'are' : 'is'} stored in the vault, not read from the environment; secrets are never exported: name a variable with api_key_env_var / secret_env_vars`);
    const headers = this.secrets.open(row, { ciphertext: row.secretCiphertext, wrappedDataKey: row.wrappedDataKey, masterKeyId: row.masterKeyId }).headers;
    const { baseUrl: _baseUrl, authMode, authHeader, totalTimeoutMs, maxRetries, retryDelayMs, ...settings } = row.settings;
    const out: Record<string, unknown> = { backend_type: row.adapter === 'openai-compatible' ? CUSTOM_BACKEND_TYPE : row.adapter };
    if (row.baseUrl !== '') out.api_base_url = row.baseUrl;
    if (keyVar !== undefined) out.api_key_env_var = keyVar;
    if (Object.keys(otherVars).length > 0) out.secret_env_vars = otherVars;
    // 002's names for the adapter's authMode and the gateway policy's settings (seconds in the file).
    if (authMode === 'header' && typeof authHeader === 'string') Object.assign(out, { auth_type: 'custom', auth_header: authHeader });
    else if (authMode !== undefined && authMode !== 'bearer') settings.authMode = authMode;
    if (Object.keys(headers).length > 0) out.headers = headers;
    if (Object.keys(settings).length > 0) out.settings = settings;
    if (typeof totalTimeoutMs === 'number') out.timeout = totalTimeoutMs / 1000;
    if (maxRetries !== undefined) out.max_retries = maxRetries;
    if (typeof retryDelayMs === 'number') out.retry_delay = retryDelayMs / 1000;
    if (models.length > 0) out.models = Object.fromEntries(models.map((m) => [m.name, modelOf(m)]));
    return out;
  }
}

function modelOf(m: ProviderModelView): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (m.targets[0]!.upstreamModel !== m.name) out.upstream_model = m.targets[0]!.upstreamModel;
  const limits = Object.fromEntries(
    (
      [
        ['context_window', m.contextWindow],
        ['max_input_tokens', m.maxInputTokens],
        ['max_output_tokens', m.maxOutputTokens],
        ['requests_per_minute', m.requestsPerMinute],
        ['tokens_per_minute', m.tokensPerMinute],
      ] as const
    ).filter(([, v]) => v !== null),
  );
  if (Object.keys(limits).length > 0) out.limits = limits;
  if (Object.keys(m.defaultParameters).length > 0) out.parameters = { ...m.defaultParameters };
  return out;
}

import { Injectable } from '@nestjs/common';
import {
  AppError,
  ErrorCode,
  type AddDatasetRowsInput,
  type CommandEnvelope,
  type CreateDatasetDto,
  type DatasetRowsInput,
  type DatasetRowView,
  type DatasetUploadView,
  type DatasetView,
  type ListInput,
  type Page,
  type TenantScope,
  type UploadDatasetRowsInput,
} from '#libs/contracts';
import { newId } from '#libs/db';
import { ownerOfNewRow } from '#libs/tenancy';
import { decodeCreatedCursor, encodeCreatedCursor, rowIndexCursor } from '../common/page-cursor.js';
import { parseCsv, parseJsonl, rowProblem } from './dataset-file.js';
import { DatasetsRepository, type DatasetRow } from './datasets.repository.js';

@Injectable()
export class DatasetsService {
  constructor(private readonly repo: DatasetsRepository) {}

  async create(command: CommandEnvelope<CreateDatasetDto>): Promise<DatasetView> {
    const { scope, input } = command;
    const owner = ownerOfNewRow(scope, undefined);
    const id = newId('ds');
    try {
      const saved = await this.repo.transaction(async (manager) => {
        await this.repo.insert({ id, organisation_id: owner.organisationId, project_id: owner.projectId, name: input.name, description: input.description ?? null }, manager);
        const created = (await this.repo.find(scope, id, manager, true))!;
        return input.rows && input.rows.length > 0 ? this.repo.appendVersion(created, this.checked(input.rows), manager) : created;
      });
      return toView(saved);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new AppError(ErrorCode.Conflict, `a dataset named ${JSON.stringify(input.name)} exists already`);
      throw err;
    }
  }

  async list(scope: TenantScope, input: ListInput): Promise<Page<DatasetView>> {
    const limit = Math.min(Math.max(input.limit ?? 50, 1), 200);
    const after = input.cursor ? decodeCreatedCursor(input.cursor) : undefined;
    const rows = await this.repo.list(scope, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map(toView), nextCursor: rows.length > limit && last ? encodeCreatedCursor(last) : null };
  }

  async get(scope: TenantScope, id: string): Promise<DatasetView> {
    return toView(await this.found(scope, id));
  }

  async addRows(command: CommandEnvelope<AddDatasetRowsInput>): Promise<DatasetView> {
    const rows = this.checked(command.input.rows);
    return toView(await this.append(command.scope, command.input.id, rows));
  }

  /** Keeps every good row of the file as one new version and reports the others by line. */
  async upload(command: CommandEnvelope<UploadDatasetRowsInput>): Promise<DatasetUploadView> {
    const { scope, input } = command;
    await this.found(scope, input.id);
    const parsed = input.format === 'csv' ? parseCsv(input.content) : parseJsonl(input.content);
    const dataset = parsed.rows.length > 0 ? await this.append(scope, input.id, parsed.rows) : await this.found(scope, input.id);
    return { dataset: toView(dataset), accepted: parsed.rows.length, rejected: parsed.rejected };
  }

  async rows(scope: TenantScope, input: DatasetRowsInput): Promise<Page<DatasetRowView>> {
    const dataset = await this.found(scope, input.id);
    const version = input.version ?? dataset.version;
    if (version > dataset.version) throw AppError.validation([{ field: 'version', messages: [`dataset ${dataset.id} has versions 0 to ${dataset.version}`] }]);
    const limit = Math.min(Math.max(input.limit ?? 100, 1), 1000);
    const after = rowIndexCursor(input.cursor);
    const rows = await this.repo.rowsPage(dataset.id, version, after, limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => ({ index: r.row_index, version: r.version, input: r.input, expected: r.expected, metadata: r.metadata })),
      nextCursor: rows.length > limit ? String(page.at(-1)!.row_index) : null,
    };
  }

  async found(scope: TenantScope, id: string): Promise<DatasetRow> {
    const dataset = await this.repo.find(scope, id);
    if (!dataset) throw AppError.notFound('dataset', id);
    return dataset;
  }

  private append(scope: TenantScope, id: string, rows: CreateDatasetDto['rows'] & object): Promise<DatasetRow> {
    return this.repo.transaction(async (manager) => {
      const dataset = await this.repo.find(scope, id, manager, true);
      if (!dataset) throw AppError.notFound('dataset', id);
      return this.repo.appendVersion(dataset, rows, manager);
    });
  }

  /** Rows through the API follow the file rules too (input present, metadata an object). */
  private checked<T>(rows: T[]): T[] {
    const problems = rows.flatMap((r, i) => {
      const p = rowProblem({ ...(r as object) });
      return p && !p.startsWith('unknown field') ? [{ field: `rows.${i}`, messages: [p] }] : [];
    });
    if (problems.length > 0) throw AppError.validation(problems);
    return rows;
  }
}

export function toView(d: DatasetRow): DatasetView {
  return {
    id: d.id,
    organisationId: d.organisation_id,
    projectId: d.project_id,
    name: d.name,
    description: d.description,
    version: d.version,
    rowCount: d.row_count,
    createdAt: new Date(d.created_at).toISOString(),
    updatedAt: new Date(d.updated_at).toISOString(),
  };
}

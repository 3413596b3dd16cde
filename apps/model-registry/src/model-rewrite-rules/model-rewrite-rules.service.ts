import { Injectable } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import {
  AppError,
  type ChangeKind,
  type CommandEnvelope,
  type CreateModelRewriteRuleDto,
  type IdInput,
  type ModelRewriteRuleView,
  type Page,
  type TenantScope,
  type UpdateModelRewriteRuleInput,
} from '#libs/contracts';
import { AuditLog, newId } from '#libs/db';
import { InvalidMatchPattern, NameRewrite } from '#libs/match-pattern';
import { Clock } from '#libs/runtime';
import { assertMayChange, attemptOf, audited, HiddenRefusal, mayRead, ownerOfNewRow } from '#libs/tenancy';
import { toPage, type PageRequest } from '../common/page-request.js';
import { ModelRewriteRuleEntity, toModelRewriteRuleView } from './model-rewrite-rule.entity.js';
import { ModelRewriteRulesRepository } from './model-rewrite-rules.repository.js';

const DEFAULT_POSITION = 100;

/** Admin CRUD of the model-name rewrite rules; every change audited and announced to the gateways. */
@Injectable()
export class ModelRewriteRulesService {
  constructor(
    private readonly rules: ModelRewriteRulesRepository,
    private readonly audit: AuditLog,
    private readonly bus: BusClient,
    private readonly clock: Clock,
  ) {}

  async create(command: CommandEnvelope<CreateModelRewriteRuleDto>): Promise<ModelRewriteRuleView> {
    const { input } = command;
    const attempt = attemptOf(command, 'model_rewrite_rule.created', null, input.projectId ?? command.scope.projectId);
    const row = await audited(this.audit, attempt, async () => {
      const owner = ownerOfNewRow(command.scope, input.projectId);
      assertCompiles(input.pattern, input.target);
      const now = this.clock.now();
      const created = Object.assign(new ModelRewriteRuleEntity(), {
        id: newId('mrr'),
        organisationId: owner.organisationId,
        projectId: owner.projectId,
        pattern: input.pattern,
        target: input.target,
        position: input.position ?? DEFAULT_POSITION,
        createdAt: now,
        updatedAt: now,
      } satisfies ModelRewriteRuleEntity);
      await this.audit.transaction(async (manager) => {
        await this.rules.save(created, manager);
        await this.audit.record({ ...attempt, projectId: created.projectId, targetId: created.id }, manager);
      });
      return created;
    });
    this.publishChange(row, 'created');
    return toModelRewriteRuleView(row);
  }

  async update(command: CommandEnvelope<UpdateModelRewriteRuleInput>): Promise<ModelRewriteRuleView> {
    const { scope, input } = command;
    const attempt = attemptOf(command, 'model_rewrite_rule.updated', input.id, scope.projectId);
    const row = await audited(this.audit, attempt, async () => {
      const found = await this.changeable(scope, input.id, attempt);
      const next = Object.assign(new ModelRewriteRuleEntity(), found, {
        pattern: input.patch.pattern ?? found.pattern,
        target: input.patch.target ?? found.target,
        position: input.patch.position ?? found.position,
        updatedAt: this.clock.now(),
      });
      assertCompiles(next.pattern, next.target);
      await this.audit.transaction(async (manager) => {
        await this.rules.save(next, manager);
        await this.audit.record(attempt, manager);
      });
      return next;
    });
    this.publishChange(row, 'updated');
    return toModelRewriteRuleView(row);
  }

  async delete(command: CommandEnvelope<IdInput>): Promise<{ deleted: true }> {
    const { scope, input } = command;
    const attempt = attemptOf(command, 'model_rewrite_rule.deleted', input.id, scope.projectId);
    const row = await audited(this.audit, attempt, async () => {
      const found = await this.changeable(scope, input.id, attempt);
      await this.audit.transaction(async (manager) => {
        if (!(await this.rules.deleteById(found.id, manager))) throw AppError.notFound('model rewrite rule', input.id);
        await this.audit.record(attempt, manager);
      });
      return found;
    });
    this.publishChange(row, 'deleted');
    return { deleted: true };
  }

  async list(scope: TenantScope, page: PageRequest): Promise<Page<ModelRewriteRuleView>> {
    return toPage(await this.rules.page(scope, page), page.limit, (rows) => rows.map(toModelRewriteRuleView));
  }

  async get(scope: TenantScope, id: string): Promise<ModelRewriteRuleView> {
    const row = await this.rules.findById(scope, id);
    if (row === null) throw AppError.notFound('model rewrite rule', id);
    return toModelRewriteRuleView(row);
  }

  async all(): Promise<ModelRewriteRuleView[]> {
    return (await this.rules.all()).map(toModelRewriteRuleView);
  }

  private async changeable(scope: TenantScope, id: string, attempt: { projectId: string | null }): Promise<ModelRewriteRuleEntity> {
    const found = await this.rules.findInOrganisation(scope, id);
    if (found === null) throw AppError.notFound('model rewrite rule', id);
    attempt.projectId = found.projectId;
    if (!mayRead(scope, found)) throw new HiddenRefusal(`model rewrite rule ${id} is outside the caller's project`, AppError.notFound('model rewrite rule', id));
    assertMayChange(scope, found, `model rewrite rule ${id}`);
    return found;
  }

  private publishChange(row: ModelRewriteRuleEntity, change: ChangeKind): void {
    this.bus.publishAfterCommit('registry.v1.events.model-rewrite-rule-changed', {
      id: row.id,
      scope: { organisationId: row.organisationId, projectId: row.projectId },
      change,
      at: this.clock.now().toISOString(),
    });
  }
}

/** The gateway compiles the same way; a rule it could not run is refused here, naming the field. */
function assertCompiles(pattern: string, target: string): void {
  try {
    NameRewrite.compile(pattern, target);
  } catch (err) {
    if (!(err instanceof InvalidMatchPattern)) throw err;
    const field = err.reason.startsWith('the target') ? 'target' : 'pattern';
    throw AppError.validation([{ field, messages: [`${field} is not usable: ${err.reason}`] }]);
  }
}

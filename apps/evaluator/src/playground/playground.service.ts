import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { CommandEnvelope, PlaygroundRunCommand, PlaygroundRunView } from '#libs/contracts';
import { newId } from '#libs/db';
import { DataSource } from 'typeorm';
import { GatewayClient } from '../gateway/gateway-client.js';
import { GatewayIdentity } from '../gateway/gateway-identity.js';
import { PlaygroundRunEntity } from './playground-run.entity.js';

@Injectable()
export class PlaygroundService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly gateway: GatewayClient,
    private readonly identity: GatewayIdentity,
    @Inject(APP_CONFIG) private readonly config: Readonly<AppConfig>,
  ) {}

  /** Calls the model through the gateway as the caller, keeps the run, and returns it (failed runs too). */
  async run(envelope: CommandEnvelope<PlaygroundRunCommand>): Promise<PlaygroundRunView> {
    const { run } = envelope.input;
    const started = Date.now();
    const result = await this.identity
      .credentialsFor(envelope.scope, envelope.actor)
      .then((gateway) => this.gateway.chat(gateway, run, this.config.upstreamTimeoutMs))
      .catch((err: unknown) => ({
      ok: false,
      output: null,
      inputTokens: null,
      outputTokens: null,
      error: `the gateway could not be reached: ${(err as Error).message}`,
    }));
    const entity = this.dataSource.getRepository(PlaygroundRunEntity).create({
      id: newId('run'),
      organisationId: envelope.scope.organisationId,
      projectId: envelope.scope.projectId,
      actorKeyId: envelope.actor.keyId,
      model: run.model,
      messages: run.messages,
      status: result.ok ? 'succeeded' : 'failed',
      output: result.output,
      inputTokens: result.inputTokens,
      outputTokens: result.outputTokens,
      error: result.error,
      latencyMs: Date.now() - started,
    });
    const saved = await this.dataSource.getRepository(PlaygroundRunEntity).save(entity);
    return {
      id: saved.id,
      organisationId: saved.organisationId,
      projectId: saved.projectId,
      model: saved.model,
      status: saved.status,
      output: saved.output,
      inputTokens: saved.inputTokens,
      outputTokens: saved.outputTokens,
      error: saved.error,
      latencyMs: saved.latencyMs,
      createdAt: saved.createdAt.toISOString(),
    };
  }
}

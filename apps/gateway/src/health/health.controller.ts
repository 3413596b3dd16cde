import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import type { CommandSubject } from '#libs/contracts';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { ReadModelService } from '../read-model/read-model.service.js';

const SERVICE_PINGS: Record<string, CommandSubject> = {
  'credential-vault': 'vault.v1.ping',
  'model-registry': 'registry.v1.ping',
  'usage-metering': 'metering.v1.ping',
  evaluator: 'evaluator.v1.ping',
};

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: BusClient,
    private readonly readModel: ReadModelService,
  ) {}

  @Get('live')
  @HttpCode(200)
  @ApiOkResponse({ description: 'The process is up.' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready when our database answers, every service answers over the bus (each checks its own database), and the read model is loaded. */
  @Get('ready')
  @ApiOkResponse({ description: 'Ready to serve.' })
  @ApiServiceUnavailableResponse({ description: 'Something it depends on does not answer; `checks` says what.' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<{ status: string; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    const probes: Promise<void>[] = [
      this.dataSource.query('SELECT 1').then(
        () => void (checks.database = 'ok'),
        (e: unknown) => void (checks.database = `failed: ${String((e as Error).message ?? e)}`),
      ),
      ...Object.entries(SERVICE_PINGS).map(([name, subject]) =>
        this.bus.request(subject, {}, 2000).then(
          () => void (checks[name] = 'ok'),
          (e: unknown) => void (checks[name] = `failed: ${String((e as Error).message ?? e)}`),
        ),
      ),
    ];
    await Promise.all(probes);
    checks.readModel = this.readModel.isLoaded ? 'ok' : 'loading';
    const ok = Object.values(checks).every((v) => v === 'ok');
    void reply.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unavailable', checks };
  }
}

import { Body, Controller, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { CreatePlaygroundRunDto, PlaygroundRunView } from '#libs/contracts';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, type Principal } from '../auth/principal.js';

/** Playground: the evaluator runs the prompt through this gateway's /v1 API, as the caller. */
@ApiTags('playground')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/playground')
export class PlaygroundController {
  constructor(
    private readonly bus: BusClient,
    @Inject(APP_CONFIG) private readonly config: Readonly<AppConfig>,
  ) {}

  @Post('runs')
  @ApiOperation({ summary: 'Run a prompt against a model through the gateway; the call is routed and metered like any other' })
  @ApiCreatedResponse({ type: PlaygroundRunView })
  run(@CurrentPrincipal() p: Principal, @Body() body: CreatePlaygroundRunDto): Promise<PlaygroundRunView> {
    // The evaluator calls /v1 with a delegated token acting as this admin key (delegation/delegated-tokens.ts), never with the key itself.
    return this.bus.request('evaluator.v1.playground.run', envelopeFor(p, { run: body }), this.config.upstreamTimeoutMs + 5_000);
  }
}

import { Body, Controller, Inject, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { CreatePlaygroundRunDto, PlaygroundRunView } from '#libs/contracts';
import { AdminAuthGuard, type AdminRequest } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { bearerToken, envelopeFor, type Principal } from '../auth/principal.js';
import { GatewayAddress } from './gateway-address.js';

/** Playground: the evaluator runs the prompt through this gateway's /v1 API, as the caller. */
@ApiTags('playground')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/playground')
export class PlaygroundController {
  constructor(
    private readonly bus: BusClient,
    private readonly address: GatewayAddress,
    @Inject(APP_CONFIG) private readonly config: Readonly<AppConfig>,
  ) {}

  @Post('runs')
  @ApiOperation({ summary: 'Run a prompt against a model through the gateway; the call is routed and metered like any other' })
  @ApiCreatedResponse({ type: PlaygroundRunView })
  run(@CurrentPrincipal() p: Principal, @Req() request: AdminRequest, @Body() body: CreatePlaygroundRunDto): Promise<PlaygroundRunView> {
    // The guard has checked this key; the evaluator calls /v1 with it, so the call is the caller's.
    const key = bearerToken(request.headers)!;
    const gateway = { url: this.config.gatewayUrl ?? this.address.url, key };
    return this.bus.request('evaluator.v1.playground.run', envelopeFor(p, { run: body, gateway }), this.config.upstreamTimeoutMs + 5_000);
  }
}

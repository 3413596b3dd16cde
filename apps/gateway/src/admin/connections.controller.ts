import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { BusClient } from '#libs/bus';
import {
  CONNECTION_STATUSES,
  ConnectionTestResultView,
  ConnectionView,
  CreateConnectionDto,
  RevealedConnectionView,
  TestConnectionDto,
  UpdateConnectionDto,
  type ConnectionStatus,
} from '#libs/contracts';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, type Principal } from '../auth/principal.js';
import { ConnectionTestService } from '../connection-test/connection-test.service.js';
import { DeletedView, ListQueryDto, PageOf } from './list-query.dto.js';

class ListConnectionsQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ enum: CONNECTION_STATUSES, description: 'Only connections of this status.' })
  @IsOptional()
  @IsIn(CONNECTION_STATUSES, { message: `$property must be one of ${CONNECTION_STATUSES.join(', ')}` })
  status?: ConnectionStatus;
}

/** Credential vault: forwarded over the bus to the credential-vault service. */
@ApiTags('connections')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/connections')
export class ConnectionsController {
  constructor(
    private readonly bus: BusClient,
    private readonly connectionTests: ConnectionTestService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a provider connection; the key is stored encrypted' })
  @ApiCreatedResponse({ type: ConnectionView })
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateConnectionDto): Promise<ConnectionView> {
    return this.bus.request('vault.v1.connections.create', envelopeFor(p, body));
  }

  @Get()
  @ApiOperation({ summary: 'List connections, secrets masked; ?status= filters by status' })
  @ApiOkResponse({ type: PageOf(ConnectionView) })
  list(@CurrentPrincipal() p: Principal, @Query() query: ListConnectionsQueryDto) {
    return this.bus.request('vault.v1.connections.list', envelopeFor(p, { limit: query.limit, cursor: query.cursor, status: query.status }));
  }

  @Get(':id')
  @ApiOkResponse({ type: ConnectionView })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<ConnectionView> {
    return this.bus.request('vault.v1.connections.get', envelopeFor(p, { id }));
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change a connection',
    description:
      'A secret (apiKey, a header value, a secret setting) left out or blank keeps the stored one; a new value replaces it. Settings are merged with the stored ones and validated again. The adapter cannot change (400). status inactive stops routing its models; active routes them again. Every gateway replica uses the change within a second.',
  })
  @ApiOkResponse({ type: ConnectionView })
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: UpdateConnectionDto): Promise<ConnectionView> {
    return this.bus.request('vault.v1.connections.update', envelopeFor(p, { ...body, id }));
  }

  @Post(':id/test')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Test a connection with a one-line prompt',
    description:
      "Sends a one-line prompt to `model` through the connection (its adapter, credentials and the upstream address guard). Answers {ok: true, text, latencyMs} or {ok: false, errorKind, message, latencyMs}; the connection's status becomes active or error (an inactive one stays inactive), audited.",
  })
  @ApiOkResponse({ type: ConnectionTestResultView })
  test(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: TestConnectionDto): Promise<ConnectionTestResultView> {
    return this.connectionTests.test({ principal: p, connectionId: id, upstreamModel: body.model });
  }

  @Post(':id/reveal')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reveal the stored key, secret settings and headers; every reveal is written to the audit log' })
  @ApiOkResponse({ type: RevealedConnectionView })
  reveal(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<RevealedConnectionView> {
    return this.bus.request('vault.v1.connections.reveal', envelopeFor(p, { id }));
  }

  @Delete(':id')
  @ApiOkResponse({ type: DeletedView })
  remove(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.bus.request('vault.v1.connections.delete', envelopeFor(p, { id }));
  }
}

import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import { ConnectionView, CreateConnectionDto, RevealedConnectionView } from '#libs/contracts';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, type Principal } from '../auth/principal.js';
import { DeletedView, ListQueryDto, PageOf } from './list-query.dto.js';

/** Credential vault: forwarded over the bus to the credential-vault service. */
@ApiTags('connections')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/connections')
export class ConnectionsController {
  constructor(private readonly bus: BusClient) {}

  @Post()
  @ApiOperation({ summary: 'Create a provider connection; the key is stored encrypted' })
  @ApiCreatedResponse({ type: ConnectionView })
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateConnectionDto): Promise<ConnectionView> {
    return this.bus.request('vault.v1.connections.create', envelopeFor(p, body));
  }

  @Get()
  @ApiOperation({ summary: 'List connections, keys masked' })
  @ApiOkResponse({ type: PageOf(ConnectionView) })
  list(@CurrentPrincipal() p: Principal, @Query() query: ListQueryDto) {
    return this.bus.request('vault.v1.connections.list', envelopeFor(p, { limit: query.limit, cursor: query.cursor }));
  }

  @Get(':id')
  @ApiOkResponse({ type: ConnectionView })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<ConnectionView> {
    return this.bus.request('vault.v1.connections.get', envelopeFor(p, { id }));
  }

  @Post(':id/reveal')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reveal the stored key and headers; every reveal is written to the audit log' })
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

import { Controller, Logger } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ChangeEventHandler } from '#libs/bus';
import type { KeySpendEvent } from '#libs/contracts';
import { ReadModelService } from '../read-model/read-model.service.js';
import { BudgetAlerts } from './budget-alerts.js';
import { KeySpendLedger } from './key-spend-ledger.js';

/** Every replica hears metering's spend (no queue group): its ledger, then the budgets crossed. */
@Controller()
export class KeySpendHandler {
  private readonly logger = new Logger(KeySpendHandler.name);

  constructor(
    private readonly ledger: KeySpendLedger,
    private readonly alerts: BudgetAlerts,
    private readonly readModel: ReadModelService,
  ) {}

  @ChangeEventHandler('metering.v1.events.key-spend')
  async spent(@Payload() event: KeySpendEvent): Promise<void> {
    if (!Array.isArray(event?.increments)) return;
    this.ledger.add(event.increments);
    const keyIds = new Set(event.increments.map((i) => i?.keyId));
    for (const keyId of keyIds) {
      if (typeof keyId !== 'string') continue;
      const principal = this.readModel.principalForKeyId(keyId);
      if (!principal?.budget) continue;
      const crossing = this.ledger.crossing(keyId, principal.budget);
      if (!crossing) continue;
      await this.alerts.alert(principal, crossing).catch((e: unknown) => this.logger.warn(`budget alert of ${keyId} not written: ${String(e)}`));
    }
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { CommandHandler } from '#libs/bus';
import { AppError, QUEUE_GROUPS, type CommandResponse, type KeySpendQuery } from '#libs/contracts';
import { DataSource } from 'typeorm';

/** A gateway replica's start: what every key spent per UTC day since `since` (priced records only). */
@Controller()
export class KeySpendHandler {
  constructor(private readonly dataSource: DataSource) {}

  @CommandHandler('metering.v1.key-spend.current', QUEUE_GROUPS.metering)
  async current(@Payload() query: KeySpendQuery): Promise<CommandResponse<'metering.v1.key-spend.current'>> {
    if (typeof query?.since !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(query.since)) {
      throw AppError.validation([{ field: 'since', messages: ['since must be a day, YYYY-MM-DD'] }]);
    }
    const rows: { keyId: string; day: string; cost: string }[] = await this.dataSource.query(
      `SELECT key_id AS "keyId", to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, SUM(cost)::text AS cost
         FROM usage_records
        WHERE priced AND key_id IS NOT NULL AND started_at >= ($1::date AT TIME ZONE 'UTC')
        GROUP BY 1, 2`,
      [query.since],
    );
    return { spend: rows };
  }
}

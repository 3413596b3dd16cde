import { parseDecimal } from '#libs/money';
import type { BusClient } from '#libs/bus';
import { Clock } from '#libs/runtime';
import type { Principal } from '../auth/principal.js';
import { KeySpendLedger } from './key-spend-ledger.js';

class FixedClock extends Clock {
  constructor(public at: Date) {
    super();
  }
  override now(): Date {
    return this.at;
  }
}

const key = (budget: Principal['budget']): Principal => ({ keyId: 'key_1', name: 'k', role: 'client', organisationId: 'org', projectId: null, budget });
const hardDay = key({ amount: parseDecimal('1.5'), period: 'day', mode: 'hard' });
const hardMonth = key({ amount: parseDecimal('3'), period: 'month', mode: 'hard' });

function ledgerAt(iso: string, totals: { keyId: string; day: string; cost: string }[] = []) {
  const clock = new FixedClock(new Date(iso));
  const requests: unknown[][] = [];
  const bus = {
    request: async (...args: unknown[]) => {
      requests.push(args);
      return { spend: totals };
    },
  } as unknown as BusClient;
  return { ledger: new KeySpendLedger(bus, clock), clock, requests };
}

describe('KeySpendLedger', () => {
  it('lets a key through until its day budget is spent, then refuses it naming the period and reset; the next day lets it through again', () => {
    const { ledger, clock } = ledgerAt('2026-12-07T10:00:00Z');
    ledger.add([{ keyId: 'key_1', day: '2026-12-07', cost: '1.4999' }]);
    expect(ledger.refusal(hardDay)).toBeUndefined();
    ledger.add([{ keyId: 'key_1', day: '2026-12-07', cost: '0.0001' }]);
    const refusal = ledger.refusal(hardDay)!;
    expect(refusal.message).toBe("This gateway key's daily budget of 1.5 USD is spent (1.5 USD this day); it resets at 2026-12-08T00:00:00.000Z.");
    expect(refusal.retryAfterSeconds).toBe(14 * 3600);
    clock.at = new Date('2026-12-08T00:00:00Z');
    expect(ledger.refusal(hardDay)).toBeUndefined();
  });

  it('a month budget sums the days of the month (exact decimals) and resets on the 1st', () => {
    const { ledger, clock } = ledgerAt('2026-12-30T23:00:00Z');
    ledger.add([
      { keyId: 'key_1', day: '2026-11-30', cost: '100' },
      { keyId: 'key_1', day: '2026-12-01', cost: '0.1' },
      { keyId: 'key_1', day: '2026-12-30', cost: '2.9' },
    ]);
    expect(ledger.spent('key_1', hardMonth.budget!).toString()).toBe('3');
    expect(ledger.refusal(hardMonth)!.message).toContain('monthly budget of 3 USD');
    expect(ledger.refusal(hardDay)!.message).toContain('(2.9 USD this day)');
    clock.at = new Date('2027-01-01T00:00:01Z');
    expect(ledger.refusal(hardMonth)).toBeUndefined();
    expect(ledger.spent('key_1', hardMonth.budget!).toString()).toBe('0');
  });

  it('never refuses a soft budget or a key without one, and reports a soft crossing once spent', () => {
    const { ledger } = ledgerAt('2026-12-07T10:00:00Z');
    const soft = key({ amount: parseDecimal('1'), period: 'month', mode: 'soft' });
    ledger.add([{ keyId: 'key_1', day: '2026-12-07', cost: '5' }]);
    expect(ledger.refusal(soft)).toBeUndefined();
    expect(ledger.refusal(key(null))).toBeUndefined();
    expect(ledger.crossing('key_1', soft.budget!)).toMatchObject({ periodStart: '2026-12-01', keyId: 'key_1' });
    expect(ledger.crossing('key_2', soft.budget!)).toBeUndefined();
  });

  it('loads the month so far at start, without counting twice what an event already brought', async () => {
    const { ledger, requests } = ledgerAt('2026-12-07T10:00:00Z', [
      { keyId: 'key_1', day: '2026-12-07', cost: '1' },
      { keyId: 'key_1', day: '2026-12-03', cost: '1' },
    ]);
    ledger.add([{ keyId: 'key_1', day: '2026-12-07', cost: '1' }]);
    await ledger.start();
    expect(requests[0]).toEqual(['metering.v1.key-spend.current', { since: '2026-12-01' }]);
    expect(ledger.spent('key_1', hardDay.budget!).toString()).toBe('1');
    expect(ledger.spent('key_1', hardMonth.budget!).toString()).toBe('2');
    expect(ledger.isLoaded).toBe(true);
  });

  it('skips a malformed increment instead of throwing', () => {
    const { ledger } = ledgerAt('2026-12-07T10:00:00Z');
    ledger.add([{ keyId: 'key_1', day: 'today', cost: '1' }, { keyId: 'key_1', day: '2026-12-07', cost: '1e999' }, { keyId: 'key_1', day: '2026-12-07', cost: '2' }]);
    expect(ledger.spent('key_1', hardDay.budget!).toString()).toBe('2');
  });
});

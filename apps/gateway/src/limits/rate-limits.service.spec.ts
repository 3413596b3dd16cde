import type { ProviderModelView } from '#libs/contracts';
import type { Principal } from '../auth/principal.js';
import type { Route } from '../read-model/route.js';
import type { RateLimitLeasesRepository } from './rate-limit-leases.repository.js';
import { RateLimitsService } from './rate-limits.service.js';

/** A store that leases whatever is asked, up to the limit per key, on a later turn. */
function leases(): RateLimitLeasesRepository {
  const leased = new Map<string, number>();
  return {
    lease: (key: string, window: number, want: number, limit: number) =>
      new Promise<number>((resolve) =>
        setImmediate(() => {
          const k = `${key}@${window}`;
          const got = Math.max(0, Math.min(want, limit - (leased.get(k) ?? 0)));
          leased.set(k, (leased.get(k) ?? 0) + got);
          resolve(got);
        }),
      ),
  } as unknown as RateLimitLeasesRepository;
}

function route(rpm: number | null, tpm: number | null): Route {
  const model = { id: 'pm1', name: 'm1', requestsPerMinute: rpm, tokensPerMinute: tpm } as ProviderModelView;
  return { name: 'm1', model, limits: { requestsPerMinute: rpm, tokensPerMinute: tpm } } as unknown as Route;
}

const key = (rpm: number | null, tpm: number | null): Principal => ({ keyId: 'k1', name: 'ci', role: 'member', organisationId: 'o1', projectId: null, requestsPerMinute: rpm, tokensPerMinute: tpm }) as unknown as Principal;

describe('RateLimitsService', () => {
  it('a call with no token budget takes no admission to settle', () => {
    const limits = new RateLimitsService(leases());
    const decision = limits.admit(route(100, null), key(null, null), 0);
    expect(decision).toEqual({ ok: true, admission: undefined });
  });

  it('names the key limit first and gives back what the call took of the others when one refuses', () => {
    const limits = new RateLimitsService(leases());
    const r = route(1000, null);
    const p = key(2, null);
    // The key allows 2 a minute (one slice of 1 ahead of its lease): the third call is refused by the key's limit.
    const answers = [limits.admit(r, p, 0), limits.admit(r, p, 0), limits.admit(r, p, 0)];
    const refused = answers.find((a) => !a.ok);
    expect(refused).toMatchObject({ ok: false, limit: 'key.requestsPerMinute', value: 2 });
  });

  it('refused by the model after the key took a request: the key gets it back', () => {
    const limits = new RateLimitsService(leases());
    const p = key(100, null);
    const tight = route(1, null);
    const roomy = { ...route(1000, null), model: { id: 'pm2', name: 'm2', requestsPerMinute: 1000, tokensPerMinute: null } as ProviderModelView } as Route;
    let refusedByModel = 0;
    for (let i = 0; i < 50; i++) {
      const d = limits.admit(tight, p, 0);
      if (!d.ok) {
        expect(d.limit).toBe('model.requestsPerMinute');
        refusedByModel++;
      }
    }
    expect(refusedByModel).toBeGreaterThan(40);
    // Before any lease answered, the key's own slice ahead (5 of 100) is all it may count on: the refused calls gave theirs back.
    let admitted = 0;
    for (let i = 0; i < 10; i++) if (limits.admit(roomy, p, 0).ok) admitted++;
    expect(admitted).toBeGreaterThanOrEqual(3);
  });

  it("token budgets (the key's and the model's) take the estimate and settle with the real usage", async () => {
    const limits = new RateLimitsService(leases());
    const r = route(null, 1000);
    const p = key(null, 1000);
    const first = limits.admit(r, p, 40);
    expect(first.ok).toBe(true);
    const admission = first.ok ? first.admission : undefined;
    expect(admission?.tokenKeys).toEqual(['key:k1:tpm', 'model:pm1:tpm']);
    expect(admission?.estimate).toBe(40);
    await new Promise((resolve) => setImmediate(resolve)); // the leases answer
    // The call used 1000 - 40 more than estimated: both budgets are spent until their next lease.
    limits.settle(admission, 1000);
    const after = limits.admit(r, p, 1);
    expect(after).toMatchObject({ ok: false, limit: 'key.tokensPerMinute' });
  });
});

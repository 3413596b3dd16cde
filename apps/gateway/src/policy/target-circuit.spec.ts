import { BrokenCircuitError } from 'cockatiel';
import { isHealthFailure } from './connection-policies.js';
import { TargetCircuit } from './target-circuit.js';

const ok = { ok: true };
const fail = (kind: string) => ({ ok: false, failure: { kind, message: kind, retryable: true } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('TargetCircuit', () => {
  it('opens after the threshold of consecutive health failures, then refuses calls without running them', async () => {
    const circuit = new TargetCircuit(3, 60_000, isHealthFailure);
    for (let i = 0; i < 3; i++) {
      expect(circuit.available).toBe(true);
      await circuit.execute(async () => fail('upstream_error'));
    }
    expect(circuit.state).toBe('open');
    expect(circuit.available).toBe(false);
    expect(circuit.retryAfterMs).toBeGreaterThan(59_000);
    let ran = false;
    await expect(
      circuit.execute(async () => {
        ran = true;
        return ok;
      }),
    ).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(ran).toBe(false);
  });

  it('told of attempts run while closed (closedAttemptDone), opens at the threshold as execute would', async () => {
    const circuit = new TargetCircuit(2, 60_000, isHealthFailure);
    expect(circuit.closed).toBe(true);
    expect(circuit.closedAttemptDone(ok)).toBe(ok); // a success answers synchronously
    await circuit.closedAttemptDone(fail('upstream_error'));
    expect(circuit.closedAttemptDone(ok)).toBe(ok); // resets the count
    await circuit.closedAttemptDone(fail('upstream_error'));
    expect(circuit.closed).toBe(true);
    await circuit.closedAttemptDone(fail('overloaded'));
    expect(circuit.closed).toBe(false);
    expect(circuit.state).toBe('open');
    // An attempt that started while closed and fails after another call opened the circuit: refused as by execute.
    await expect(Promise.resolve(circuit.closedAttemptDone(fail('upstream_error')))).rejects.toBeInstanceOf(BrokenCircuitError);
  });

  it('a success between failures resets the count', async () => {
    const circuit = new TargetCircuit(2, 60_000, isHealthFailure);
    await circuit.execute(async () => fail('upstream_timeout'));
    await circuit.execute(async () => ok);
    await circuit.execute(async () => fail('upstream_unreachable'));
    expect(circuit.state).toBe('closed');
  });

  it('rate limits and refused requests do not count against the target', async () => {
    const circuit = new TargetCircuit(2, 60_000, isHealthFailure);
    for (const kind of ['rate_limited', 'bad_request', 'auth', 'rate_limited']) await circuit.execute(async () => fail(kind));
    expect(circuit.state).toBe('closed');
  });

  it('half-opens after the wait: one probe goes through; success closes it, failure opens it again', async () => {
    const circuit = new TargetCircuit(1, 50, isHealthFailure);
    await circuit.execute(async () => fail('overloaded'));
    expect(circuit.available).toBe(false);
    await sleep(60);
    expect(circuit.available).toBe(true);
    let release!: () => void;
    const probe = circuit.execute(() => new Promise((r) => (release = () => r(fail('upstream_error')))));
    expect(circuit.state).toBe('half-open');
    expect(circuit.available).toBe(false); // its probe is out: others skip it
    release();
    await probe;
    expect(circuit.state).toBe('open');
    await sleep(60);
    await circuit.execute(async () => ok);
    expect(circuit.state).toBe('closed');
    expect(circuit.available).toBe(true);
  });
});

import { pairedRatio } from './report.js';
import type { PathSummary } from './scenarios.js';

const path = (rps: number[]): PathSummary => ({ rounds: rps.map((r, i) => ({ round: i + 1, rps: r })) }) as unknown as PathSummary;

describe('pairedRatio', () => {
  it("is the median of each round's own ratio, so a slow host in one round does not pair with a fast one in another", () => {
    // Host load changes between rounds; within a round the gateway does 80% of the floor.
    const floor = path([10_000, 20_000, 12_000, 8_000, 16_000]);
    const gateway = path([8_000, 16_000, 9_600, 6_400, 12_800]);
    expect(pairedRatio(gateway, floor, (r) => r.rps)).toBeCloseTo(0.8, 10);
    // One round where only the floor ran fast: the median of the ratios stays 0.8, while the
    // ratio of the medians drops to 9,600 / 16,000 = 0.6.
    const skewedFloor = path([20_000, 20_000, 12_000, 8_000, 16_000]);
    expect(pairedRatio(gateway, skewedFloor, (r) => r.rps)).toBeCloseTo(0.8, 10);
  });

  it('compares only rounds both paths ran, and is NaN when there are none', () => {
    const floor = path([10_000, 10_000]);
    const gateway = { rounds: [{ round: 2, rps: 7_000 }, { round: 3, rps: 1 }] } as unknown as PathSummary;
    expect(pairedRatio(gateway, floor, (r) => r.rps)).toBeCloseTo(0.7, 10);
    expect(pairedRatio(path([]), floor, (r) => r.rps)).toBeNaN();
  });
});

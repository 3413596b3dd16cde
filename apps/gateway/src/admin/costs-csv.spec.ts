import type { CostGroupView, CostReportView } from '#libs/contracts';
import { costsCsv } from './costs-csv.js';

const group = (key: string, cost: string): CostGroupView => ({
  key,
  requests: 2,
  inputTokens: 1200,
  cachedInputTokens: 200,
  cacheWriteTokens: 100,
  outputTokens: 300,
  reasoningTokens: 50,
  cost,
  unpricedRequests: 0,
  missingUsageRequests: 0,
  partialUsageRequests: 1,
  errorRequests: 0,
  estimatedRequests: 1,
});

const report = (groups: CostGroupView[]): CostReportView => ({ currency: 'USD', from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z', groupBy: 'model', groups, totalCost: '0' });

describe('costsCsv', () => {
  it('writes a header naming the grouping and one CRLF row per group, costs as exact decimals', () => {
    expect(costsCsv(report([group('gpt-4o', '0.007885')]))).toBe(
      'model,requests,inputTokens,cachedInputTokens,cacheWriteTokens,outputTokens,reasoningTokens,cost,unpricedRequests,missingUsageRequests,partialUsageRequests,errorRequests,estimatedRequests\r\n' +
        'gpt-4o,2,1200,200,100,300,50,0.007885,0,0,1,0,1\r\n',
    );
  });

  it('quotes commas, quotes and line breaks, and defuses what a spreadsheet would run as a formula', () => {
    const lines = costsCsv(report([group('a,"b"\nc', '1'), group('=HYPERLINK("x")', '2'), group('-1+1', '3')])).split('\r\n');
    expect(lines[1]).toMatch(/^"a,""b""\nc",/);
    expect(lines[2]).toMatch(/^"'=HYPERLINK\(""x""\)",/);
    expect(lines[3]).toMatch(/^'-1\+1,/);
  });
});

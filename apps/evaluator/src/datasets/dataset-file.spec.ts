import { parseCsv, parseJsonl } from './dataset-file.js';

describe('dataset files', () => {
  it('keeps the good JSONL lines and reports the bad ones by line number', () => {
    const content = ['{"input":"2+2","expected":"4"}', 'not json', '', '{"expected":"x"}', '{"input":{"q":"3+3"},"metadata":{"topic":"maths"}}', '{"input":"a","metadata":[1]}'].join('\n');
    const { rows, rejected } = parseJsonl(content);
    expect(rows).toEqual([
      { input: '2+2', expected: '4', metadata: undefined },
      { input: { q: '3+3' }, expected: undefined, metadata: { topic: 'maths' } },
    ]);
    expect(rejected.map((r) => r.line)).toEqual([2, 4, 6]);
    expect(rejected[0]!.message).toMatch(/^not JSON/);
    expect(rejected[1]!.message).toMatch(/no "input"/);
  });

  it('reads CSV columns input and expected, the others as metadata, and reports short and empty records by line', () => {
    const content = 'input,expected,topic\n"2+2",4,maths\nonly-one-field\n,5,x\n"multi\nline",7,prose\n';
    const { rows, rejected } = parseCsv(content);
    expect(rows).toEqual([
      { input: '2+2', expected: '4', metadata: { topic: 'maths' } },
      { input: 'multi\nline', expected: '7', metadata: { topic: 'prose' } },
    ]);
    expect(rejected).toEqual([
      { line: 3, message: '1 fields where the header has 3' },
      { line: 4, message: 'the "input" field is empty' },
    ]);
  });

  it('refuses a CSV without an input column', () => {
    expect(parseCsv('question,answer\na,b\n')).toEqual({ rows: [], rejected: [{ line: 1, message: 'the header has no "input" column (it has question, answer)' }] });
  });
});

import { ExactMatch, Levenshtein, LLMClassifierFromSpec, NumericDiff, ValidJSON } from 'autoevals';
import type OpenAI from 'openai';
import type { ScorerDto } from '#libs/contracts';

export interface RowScore {
  name: string;
  score: number | null;
  error: string | null;
  choice?: string | null;
  reasoning?: string | null;
}

export interface ScoringInput {
  input: unknown;
  output: string;
  expected: unknown;
  metadata: Record<string, unknown>;
}

/** The name a scorer's scores go under in results. */
export function scorerName(s: ScorerDto): string {
  return s.name ?? s.type;
}

/** Why a run's scorer list cannot run, per field, or [] (checked before the run starts). */
export function scorerProblems(scorers: ScorerDto[]): { field: string; messages: string[] }[] {
  const problems: { field: string; messages: string[] }[] = [];
  const names = new Set<string>();
  scorers.forEach((s, i) => {
    const name = scorerName(s);
    if (names.has(name)) problems.push({ field: `scorers.${i}.name`, messages: [`two scorers are named ${JSON.stringify(name)}; give each a unique name`] });
    names.add(name);
    if (s.type === 'llm_judge') {
      if (!s.judge) problems.push({ field: `scorers.${i}.judge`, messages: ['an llm_judge scorer needs a judge spec (model, promptTemplate, choiceScores)'] });
      else {
        const choices = Object.entries(s.judge.choiceScores ?? {});
        if (choices.length < 2) problems.push({ field: `scorers.${i}.judge.choiceScores`, messages: ['choiceScores needs at least two choices'] });
        for (const [choice, score] of choices) {
          if (typeof score !== 'number' || !(score >= 0 && score <= 1)) {
            problems.push({ field: `scorers.${i}.judge.choiceScores.${choice}`, messages: ['each choice\'s score must be a number from 0 to 1'] });
          }
        }
      }
    } else if (s.judge) problems.push({ field: `scorers.${i}.judge`, messages: [`judge applies to llm_judge scorers only, not ${s.type}`] });
    if (s.schema && s.type !== 'valid_json') problems.push({ field: `scorers.${i}.schema`, messages: [`schema applies to valid_json scorers only, not ${s.type}`] });
  });
  return problems;
}

const asText = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

/**
 * One scorer on one row, with autoevals. `judgeClient` is an OpenAI client pointed at this
 * gateway's /v1 with the evaluator's delegated token (and the row's traceparent, so the judge's
 * calls are priced under the row's trace). A scorer that fails (an unparseable judge answer, a
 * NaN) yields an error, never a score.
 */
export async function score(s: ScorerDto, row: ScoringInput, judgeClient: () => OpenAI): Promise<RowScore> {
  const name = scorerName(s);
  try {
    switch (s.type) {
      case 'exact_match':
        return fromAutoevals(name, await ExactMatch({ output: row.output, expected: asText(row.expected) }));
      case 'levenshtein':
        return fromAutoevals(name, await Levenshtein({ output: row.output, expected: asText(row.expected) }));
      case 'numeric_diff': {
        const output = Number(row.output.trim());
        const expected = Number(asText(row.expected).trim());
        if (!Number.isFinite(output)) return { name, score: null, error: `the output is not a number: ${JSON.stringify(row.output.slice(0, 100))}` };
        if (!Number.isFinite(expected)) return { name, score: null, error: 'the row\'s expected value is not a number' };
        return fromAutoevals(name, await NumericDiff({ output, expected }));
      }
      case 'valid_json':
        return fromAutoevals(name, await ValidJSON({ output: row.output, schema: s.schema }));
      case 'llm_judge': {
        const judge = s.judge!;
        const classifier = LLMClassifierFromSpec(name, {
          prompt: judge.promptTemplate,
          choice_scores: judge.choiceScores,
          model: judge.model,
          use_cot: judge.useCot ?? true,
        });
        const result = await classifier({
          output: row.output,
          expected: asText(row.expected),
          input: asText(row.input),
          metadata: row.metadata,
          client: judgeClient(),
        } as never);
        const metadata = (result.metadata ?? {}) as { choice?: unknown; rationale?: unknown };
        return {
          ...fromAutoevals(name, result),
          choice: typeof metadata.choice === 'string' ? metadata.choice : null,
          reasoning: typeof metadata.rationale === 'string' ? metadata.rationale : null,
        };
      }
    }
  } catch (err) {
    return { name, score: null, error: judgeError(err) };
  }
}

function fromAutoevals(name: string, result: { score: number | null; error?: unknown }): RowScore {
  if (result.error !== undefined && result.error !== null) return { name, score: null, error: String((result.error as Error).message ?? result.error) };
  if (result.score === null || !Number.isFinite(result.score)) return { name, score: null, error: 'the scorer gave no score' };
  return { name, score: result.score, error: null };
}

function judgeError(err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  if (/No tool calls|Unexpected tool call|Unknown score choice|JSON/.test(message)) return `the judge's answer could not be read as a choice: ${message}`;
  return message.slice(0, 2000);
}

import type { FakeBehaviour } from './fake-behaviour.js';

/**
 * Azure OpenAI's additions to OpenAI's wire format, as its service sends them
 * (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference and the content-filter
 * concept page): filter results on the prompt and on every choice, a first stream chunk that only
 * carries the prompt's results (empty id and model), and its error bodies.
 */

const SAFE = { filtered: false, severity: 'safe' } as const;
export const AZURE_CONTENT_FILTER_RESULTS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE } as const;
export const AZURE_PROMPT_FILTER_RESULTS = [{ prompt_index: 0, content_filter_results: { ...AZURE_CONTENT_FILTER_RESULTS, jailbreak: { filtered: false, detected: false } } }];

/** The api-versions the fake serves on the deployments form (a real resource knows many more). */
export const AZURE_API_VERSIONS = ['2024-06-01', '2024-10-21', '2025-04-01-preview'] as const;

type Choice = object;

/** A whole chat or completions answer with Azure's filter results. */
export function azureWhole<T extends { choices: Choice[] }>(answer: T): T & { prompt_filter_results: typeof AZURE_PROMPT_FILTER_RESULTS } {
  return { ...answer, prompt_filter_results: AZURE_PROMPT_FILTER_RESULTS, choices: answer.choices.map((c) => ({ ...c, content_filter_results: AZURE_CONTENT_FILTER_RESULTS })) };
}

/** A stream's chunks as Azure sends them: the prompt's filter results first, then each chunk with its choice's results. */
export function azureChunks<T extends { choices: Choice[] }>(chunks: readonly T[]): unknown[] {
  const first = { choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: AZURE_PROMPT_FILTER_RESULTS };
  return [
    first,
    ...chunks.map((c) => (c.choices.length === 0 ? c : { ...c, choices: c.choices.map((ch) => ({ ...ch, content_filter_results: (ch as { finish_reason?: unknown }).finish_reason ? {} : AZURE_CONTENT_FILTER_RESULTS })) })),
  ];
}

/** Azure's own error body: `code` is a word or a status as a string; no `type`. */
export function azureErrorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** Errors as Azure OpenAI answers them. */
export const azureFakeErrors = {
  /** A prompt its content filter refused: 400 content_filter with the categories in innererror. */
  contentFilter: (category: 'hate' | 'self_harm' | 'sexual' | 'violence' = 'violence', severity = 'medium'): FakeBehaviour => ({
    kind: 'raw',
    status: 400,
    body: JSON.stringify({
      error: {
        message:
          "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
        type: null,
        param: 'prompt',
        code: 'content_filter',
        status: 400,
        innererror: {
          code: 'ResponsibleAIPolicyViolation',
          content_filter_result: { ...AZURE_CONTENT_FILTER_RESULTS, [category]: { filtered: true, severity }, jailbreak: { filtered: false, detected: false } },
        },
      },
    }),
  }),
  /** A deployment's token-rate limit: 429 with retry-after (s) and retry-after-ms. */
  rateLimited: (seconds = 6): FakeBehaviour => ({
    kind: 'raw',
    status: 429,
    headers: { 'retry-after': String(seconds), 'retry-after-ms': String(seconds * 1000), 'x-ratelimit-remaining-tokens': '0' },
    body: JSON.stringify(
      azureErrorBody(
        '429',
        `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${seconds} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
      ),
    ),
  }),
  contextLength: (): FakeBehaviour => ({
    kind: 'raw',
    status: 400,
    body: JSON.stringify({
      error: {
        message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130017 tokens. Please reduce the length of the messages.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    }),
  }),
} as const;

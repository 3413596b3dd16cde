/**
 * A call's token counts as OpenTelemetry's GenAI attributes give them: `input` includes the cached
 * tokens (read and written), `output` includes the reasoning tokens. Integers, never floats.
 */
export interface TokenUsage {
  input: bigint;
  output: bigint;
  cacheRead: bigint;
  cacheWrite: bigint;
  reasoning: bigint;
}

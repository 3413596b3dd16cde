import type { CallWarning, CanonicalStreamPart, CanonicalUsage, ProviderAdapterV2 } from '#libs/adapter-sdk';
import { warningText } from '#libs/adapter-sdk';
import { GatewayAttr, GenAiAttr, type UsageStatus } from '#libs/contracts';
import type { SecretRedactor } from '#libs/secret-redaction';
import type { CallSpan } from '#libs/telemetry';
import type { RouteTarget } from '../read-model/read-model.service.js';
import type { CallFailure } from './call-failure.js';

/** The span attribute holding the gateway's request id (x-request-id) of the call. */
export const REQUEST_ID_ATTRIBUTE = 'gateway.request_id';
export const WARNINGS_ATTRIBUTE = 'gateway.warnings';

/** The most streamed text a call keeps for estimating its usage should the stream be cut short (UTF-16 units). */
export const STREAMED_TEXT_LIMIT = 256 * 1024;

/**
 * What metering learns of one call, from the adapter's parts (never from markers in the bytes), put
 * on the call's one span when it ends: the target, the response's model and id, the usage, the
 * finish reasons, the failure, and `gateway.usage.status` (libs/contracts GatewayAttr). Every upstream
 * text goes through the target's redactor first.
 */
export class CallMetering {
  private usage: CanonicalUsage | undefined;
  private model: string | undefined;
  private id: string | undefined;
  private readonly finishReasons: string[] = [];
  private failed = false;
  private redactor: SecretRedactor | undefined;
  /** Set once a stream's head went out: a stream cut short before its usage is estimated from what it carried. */
  private streamed = false;
  private readonly streamedText: string[] = [];
  private streamedTextLength = 0;
  private contentEvents = 0;

  /** @param promptText the request's prompt texts, read only when a cut-short stream's usage must be estimated */
  constructor(
    readonly span: CallSpan,
    private readonly promptText: () => readonly string[] = () => [],
  ) {}

  /** The answer is a stream whose head reached the client. */
  streamStarted(): void {
    this.streamed = true;
  }

  /** Pass-through stream events that the metering-only decoder left unparsed (content). */
  contentEventPassed(events = 1): void {
    this.contentEvents += events;
  }

  /** The target the call went to (set per attempt: the last one is the one that answered). */
  target(target: RouteTarget, adapter: ProviderAdapterV2 | undefined): void {
    this.redactor = target.redactor;
    this.span.setAttribute(GenAiAttr.requestModel, target.upstreamModel);
    this.span.setAttribute(GatewayAttr.connectionId, target.connection.id);
    if (adapter) this.span.setAttribute(GenAiAttr.providerName, adapter.providerName);
  }

  warnings(warnings: readonly CallWarning[]): string[] {
    const lines = warnings.map(warningText);
    if (lines.length > 0) this.span.setAttribute(WARNINGS_ATTRIBUTE, lines);
    return lines;
  }

  response(meta: { model?: string; id?: string; usage?: CanonicalUsage; finishReasons?: readonly string[] }): void {
    if (meta.model !== undefined) this.model ??= meta.model;
    if (meta.id !== undefined) this.id ??= meta.id;
    if (meta.usage) this.usage = meta.usage;
    if (meta.finishReasons) this.finishReasons.push(...meta.finishReasons);
  }

  /** Reads what metering needs from one stream part; answers the part's error, if it is one. */
  part(part: CanonicalStreamPart): void {
    switch (part.type) {
      case 'response-metadata':
        if (part.model !== undefined) this.model ??= part.model;
        if (part.id !== undefined) this.id ??= part.id;
        break;
      case 'usage':
        this.usage = part.usage;
        // Usage seen: a cut-short stream records it, so the text kept for an estimate can go.
        this.streamedText.length = 0;
        this.streamedTextLength = STREAMED_TEXT_LIMIT;
        break;
      case 'finish':
        this.finishReasons.push(part.rawReason ?? part.reason);
        break;
      case 'text-delta':
      case 'reasoning-delta':
        // Kept (bounded) only for the estimate of a stream cut short before its usage; the strings exist already.
        if (this.streamed && this.streamedTextLength < STREAMED_TEXT_LIMIT) {
          this.streamedText.push(part.text);
          this.streamedTextLength += part.text.length;
        }
        this.contentEvents++;
        break;
      default:
        break;
    }
  }

  /** Input plus output tokens read so far (0 when no usage was read): what a token budget settles with. */
  get tokensUsed(): number {
    return this.usage ? this.usage.input.total + this.usage.output.total : 0;
  }

  /** Nothing failed so far (the response cache keeps only such answers). */
  get succeeded(): boolean {
    return !this.failed;
  }

  /** What was read of the answer: a cached answer's hit is recorded with these. */
  facts(): { model?: string; id?: string; usage?: CanonicalUsage; finishReasons: readonly string[] } {
    return { model: this.model, id: this.id, usage: this.usage, finishReasons: [...this.finishReasons] };
  }

  fail(failure: CallFailure): void {
    this.failed = true;
    this.span.setError(failure.message, failure.kind);
    if (failure.upstreamStatus !== undefined) this.span.setAttribute('http.response.status_code', failure.upstreamStatus);
  }

  /** Puts everything on the span and ends it: exactly once per call. */
  end(): void {
    const redactor = this.redactor;
    // Upstream text that metering stores (the model becomes the usage record's and the cost report's).
    if (this.model) this.span.setAttribute(GenAiAttr.responseModel, redactor ? redactor.redact(this.model) : this.model);
    if (this.id) this.span.setAttribute(GenAiAttr.responseId, redactor ? redactor.redact(this.id) : this.id);
    if (this.finishReasons.length > 0) {
      const reasons: string[] = [];
      for (const reason of this.finishReasons) reasons.push(redactor ? redactor.redact(reason) : reason);
      this.span.setAttribute(GenAiAttr.finishReasons, reasons);
    }
    const usage = this.usage;
    let status: UsageStatus = 'missing';
    if (usage) {
      status = this.failed ? 'partial' : 'reported';
      this.span.setAttribute(GenAiAttr.inputTokens, usage.input.total);
      this.span.setAttribute(GenAiAttr.outputTokens, usage.output.total);
      // The parts only when present: metering reads a missing part as zero.
      if (usage.input.cacheRead > 0) this.span.setAttribute(GenAiAttr.cacheReadTokens, usage.input.cacheRead);
      if (usage.input.cacheWrite > 0) this.span.setAttribute(GenAiAttr.cacheCreationTokens, usage.input.cacheWrite);
      if (usage.output.reasoning > 0) this.span.setAttribute(GenAiAttr.reasoningTokens, usage.output.reasoning);
    }
    else if (this.streamed && this.failed) {
      // Cut short before any usage came: what the call carried, for metering to estimate (marked estimated).
      status = 'partial';
      const redact = (text: string): string => (redactor ? redactor.redact(text) : text);
      this.span.setAttribute(GenAiAttr.prompt, [...this.promptText()].map(redact));
      if (this.streamedText.length > 0) this.span.setAttribute(GenAiAttr.completion, redact(this.streamedText.join('')));
      this.span.setAttribute(GatewayAttr.streamedContentEvents, this.contentEvents);
    }
    this.span.setAttribute(GatewayAttr.usageStatus, status);
    this.span.end();
  }
}

import type { FieldError, ModelParameters } from '#libs/contracts';
import type { ProviderModelTarget } from './provider-model.entity.js';

/** The targets a create body gives: `targets`, or the one-target form (connectionId + upstreamModel) kept from the first version. */
export function targetsOfCreate(input: {
  targets?: { connectionId: string; upstreamModel: string; weight?: number }[];
  connectionId?: string;
  upstreamModel?: string;
}): ProviderModelTarget[] | FieldError {
  const oneTarget = input.connectionId !== undefined || input.upstreamModel !== undefined;
  if (input.targets !== undefined && oneTarget) {
    return { field: 'targets', messages: ['give either targets or connectionId + upstreamModel, not both'] };
  }
  if (input.targets !== undefined) return normalisedTargets(input.targets);
  if (input.connectionId === undefined) return { field: 'connectionId', messages: ['connectionId (with upstreamModel) or targets is required'] };
  if (input.upstreamModel === undefined) return { field: 'upstreamModel', messages: ['upstreamModel is required with connectionId'] };
  return [{ connectionId: input.connectionId, upstreamModel: input.upstreamModel, weight: 1 }];
}

export function normalisedTargets(targets: { connectionId: string; upstreamModel: string; weight?: number }[]): ProviderModelTarget[] {
  return targets.map((t) => ({ connectionId: t.connectionId, upstreamModel: t.upstreamModel, weight: t.weight ?? 1 }));
}

export interface ModelLimits {
  contextWindow: number | null;
  maxInputTokens: number | null;
  maxOutputTokens: number | null;
  defaultParameters: ModelParameters;
}

/**
 * The limits' rules among themselves (002): the context window is larger than the input limit (the
 * rest is room for the answer) and holds the output limit; a default max_tokens respects the output limit.
 */
export function limitProblems(limits: ModelLimits): FieldError[] {
  const problems: FieldError[] = [];
  const { contextWindow, maxInputTokens, maxOutputTokens } = limits;
  if (contextWindow !== null && maxInputTokens !== null && contextWindow <= maxInputTokens) {
    problems.push({ field: 'contextWindow', messages: [`contextWindow (${contextWindow}) must be larger than maxInputTokens (${maxInputTokens})`] });
  }
  if (contextWindow !== null && maxOutputTokens !== null && maxOutputTokens > contextWindow) {
    problems.push({ field: 'maxOutputTokens', messages: [`maxOutputTokens (${maxOutputTokens}) must be at most contextWindow (${contextWindow})`] });
  }
  const defaultMax = limits.defaultParameters.max_tokens;
  if (defaultMax !== undefined && maxOutputTokens !== null && defaultMax > maxOutputTokens) {
    problems.push({ field: 'defaultParameters.max_tokens', messages: [`defaultParameters.max_tokens (${defaultMax}) must be at most maxOutputTokens (${maxOutputTokens})`] });
  }
  return problems;
}

/** What the fallback check knows of a provider model of the organisation. */
export interface FallbackNode {
  name: string;
  projectId: string | null;
  fallbacks: readonly string[];
}

/**
 * The fallbacks of `model` (already changed, among the organisation's `others`): each names an
 * existing provider model that callers of `model` can reach (its own project's or an
 * organisation-wide one; an organisation-wide model cannot fall back to one project's), not itself,
 * and following fallbacks from `model` never comes back to it. Names are unique per organisation.
 */
export function fallbackProblems(model: FallbackNode, others: readonly FallbackNode[]): FieldError[] {
  const byName = new Map(others.filter((o) => o.name !== model.name).map((o) => [o.name, o]));
  byName.set(model.name, model);
  const messages: string[] = [];
  for (const name of model.fallbacks) {
    const target = byName.get(name);
    if (name === model.name) messages.push(`${name} cannot fall back to itself`);
    else if (!target) messages.push(`${name} is not a provider model of this organisation`);
    else if (target.projectId !== null && target.projectId !== model.projectId) {
      messages.push(`${name} belongs to project ${target.projectId}, which not every caller of ${model.name} can reach`);
    }
  }
  if (messages.length > 0) return [{ field: 'fallbacks', messages }];
  const cycle = cycleThrough(model.name, byName);
  return cycle ? [{ field: 'fallbacks', messages: [`the fallbacks form a cycle: ${cycle.join(' -> ')}`] }] : [];
}

/** A path start -> ... -> start along fallbacks, or undefined when there is none (depth-first, each model visited once). */
function cycleThrough(start: string, byName: ReadonlyMap<string, FallbackNode>): string[] | undefined {
  const visited = new Set<string>();
  const path: string[] = [start];
  const walk = (name: string): boolean => {
    for (const next of byName.get(name)?.fallbacks ?? []) {
      if (next === start) {
        path.push(next);
        return true;
      }
      if (visited.has(next) || !byName.has(next)) continue;
      visited.add(next);
      path.push(next);
      if (walk(next)) return true;
      path.pop();
    }
    return false;
  };
  return walk(start) ? path : undefined;
}

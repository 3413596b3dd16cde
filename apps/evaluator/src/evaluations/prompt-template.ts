import Mustache from 'mustache';
import type { StoredRow } from '../datasets/datasets.repository.js';

/** Prompts are not HTML: values go in as they are. */
const RAW = { escape: (value: unknown) => String(value) };

/**
 * What a template sees of a row: {{input}} (an object input renders as its JSON, and its fields
 * are {{input.<field>}}), {{expected}}, {{metadata.<field>}}, and each metadata field by its own
 * name too (a CSV's extra columns read naturally as {{topic}}).
 */
export function templateView(row: Pick<StoredRow, 'input' | 'expected' | 'metadata'>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...row.metadata, input: renderable(row.input), expected: renderable(row.expected), metadata: row.metadata, ...extra };
}

export function renderTemplate(template: string, view: Record<string, unknown>): string {
  return Mustache.render(template, view, {}, RAW);
}

function renderable(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value ?? '';
  const json = JSON.stringify(value);
  // Keeps {{input.field}} working while {{input}} renders the whole value as JSON, not [object Object].
  return Object.assign(Object.create({ toString: () => json }) as object, value);
}

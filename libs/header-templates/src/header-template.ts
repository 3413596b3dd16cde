import Mustache from 'mustache';

/** The variables a connection's extra-header value may use (issue 16.7). */
export const HEADER_TEMPLATE_VARIABLES = ['user', 'email', 'model', 'request_id', 'api_key'] as const;
export type HeaderTemplateVariable = (typeof HEADER_TEMPLATE_VARIABLES)[number];
export type HeaderTemplateValues = Readonly<Record<HeaderTemplateVariable, string>>;

const KNOWN = new Set<string>(HEADER_TEMPLATE_VARIABLES);

/** Token types a header template may hold: text, {{name}}, {{{name}}} / {{&name}}, comments. Sections and partials are refused. */
const ALLOWED_TOKENS = new Set(['text', 'name', '&', '!']);

/**
 * Every control character (CR and LF above all, NUL, DEL): a rendered value goes into one header
 * line, so what a variable holds (a key name, a model name the client chose) can never end it and
 * start another header. Tab stays: RFC 9110 allows it inside a field value.
 */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000a-\u001f\u007f]/g;

/** Values are written as they are: a header is not HTML (Mustache escapes for HTML by default). */
const RENDER_CONFIG = { escape: (value: unknown) => String(value) };

/**
 * One extra-header value compiled once (when a connection is saved, and when a gateway loads it),
 * rendered per call. A value without `{{` is not a template and renders to itself, allocation-free.
 */
export class HeaderTemplate {
  private constructor(
    readonly source: string,
    private readonly tokens: string[][] | null,
  ) {}

  /** @throws HeaderTemplateError naming what is wrong (a parse error, an unknown variable, a section). */
  static compile(source: string): HeaderTemplate {
    if (!source.includes('{{')) return new HeaderTemplate(source, null);
    let tokens: string[][];
    try {
      // A fresh writer: its cache is this template's alone, and Mustache's global cache stays untouched.
      tokens = new Mustache.Writer().parse(source) as unknown as string[][];
    } catch (err) {
      throw new HeaderTemplateError(`is not a valid Mustache template: ${(err as Error).message}`);
    }
    for (const token of tokens) {
      const [type, name] = token as [string, string];
      if (!ALLOWED_TOKENS.has(type)) throw new HeaderTemplateError(`may only use variables ({{name}}), not Mustache sections or partials ({{${type}${name}}})`);
      if ((type === 'name' || type === '&') && !KNOWN.has(name)) {
        throw new HeaderTemplateError(`uses the unknown variable {{${name}}}; known variables: ${HEADER_TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(', ')}`);
      }
    }
    return new HeaderTemplate(source, tokens);
  }

  get isTemplate(): boolean {
    return this.tokens !== null;
  }

  /** The value for one call: variables filled in, control characters (CR, LF...) removed. */
  render(values: HeaderTemplateValues): string {
    if (this.tokens === null) return this.source;
    const rendered = new Mustache.Writer().renderTokens(this.tokens, new Mustache.Context(values), undefined, this.source, RENDER_CONFIG);
    return rendered.replace(CONTROL_CHARACTERS, '');
  }
}

export class HeaderTemplateError extends Error {}

/** Every header whose value is not a valid template, with why: for a 400 naming `headers.<name>`. */
export function headerTemplateErrors(headers: Readonly<Record<string, string>>): { header: string; message: string }[] {
  const errors: { header: string; message: string }[] = [];
  for (const [header, value] of Object.entries(headers)) {
    try {
      HeaderTemplate.compile(value);
    } catch (err) {
      if (!(err instanceof HeaderTemplateError)) throw err;
      errors.push({ header, message: err.message });
    }
  }
  return errors;
}

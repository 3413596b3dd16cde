import type { ProcessEnvironment } from '#libs/config';
import type { ResolvedConnection } from '#libs/contracts';
import { HeaderTemplate, type HeaderTemplateValues } from '#libs/header-templates';

/** Who and what a call is for: the values header templates may use (issue 16.7). */
export interface CallIdentity {
  /** The gateway key's name (later the SSO user). */
  user: string;
  /** The caller's e-mail once SSO gives one; '' until then. */
  email: string;
  /** The model name the client called. */
  model: string;
  requestId: string;
}

export type CallCredentials =
  | { ok: true; secrets: Readonly<Record<string, string>>; headers: Readonly<Record<string, string>> }
  | { ok: false; message: string };

/** Compiled per connection object: the read model replaces the object whenever the connection changes. */
const compiled = new WeakMap<ResolvedConnection, ConnectionCallCredentials>();

/**
 * A connection's credentials as one call sends them: secrets named by an environment variable read
 * from this gateway's environment (issue 16.3), and extra-header values rendered from their Mustache
 * templates (issue 16.7). Templates are compiled once per connection; a connection with neither
 * hands out its stored objects, so such a call allocates nothing here.
 */
export class ConnectionCallCredentials {
  private readonly envFields: readonly (readonly [field: string, variable: string])[];
  private readonly templated: readonly (readonly [header: string, template: HeaderTemplate])[];
  private readonly storedSecrets: Readonly<Record<string, string>>;
  /** The credentials of every call when nothing in them varies (no environment secrets, no templates): forCall's answer, without its identity. */
  readonly fixed: (CallCredentials & { ok: true }) | undefined;

  private constructor(private readonly connection: ResolvedConnection) {
    // A vault of the previous version sends no `secrets`, only the key.
    this.storedSecrets = connection.secrets ?? (connection.apiKey ? { apiKey: connection.apiKey } : {});
    this.envFields = Object.entries(connection.secretEnvVars ?? {});
    const templated: [string, HeaderTemplate][] = [];
    for (const [header, value] of Object.entries(connection.headers)) {
      let template: HeaderTemplate;
      try {
        template = HeaderTemplate.compile(value);
      } catch {
        // The vault refuses such a value when it is saved; one stored before that is sent as it is.
        continue;
      }
      if (template.isTemplate) templated.push([header, template]);
    }
    this.templated = templated;
    this.fixed = this.envFields.length === 0 && templated.length === 0 ? { ok: true, secrets: this.storedSecrets, headers: connection.headers } : undefined;
  }

  static of(connection: ResolvedConnection): ConnectionCallCredentials {
    let found = compiled.get(connection);
    if (!found) {
      found = new ConnectionCallCredentials(connection);
      compiled.set(connection, found);
    }
    return found;
  }

  /** The variables this connection reads that are unset here (for the read model's log and redactor). */
  unsetVariables(environment: ProcessEnvironment): string[] {
    return this.envFields.filter(([, variable]) => environment.get(variable) === undefined).map(([, variable]) => variable);
  }

  /** The values of the variables it reads that are set here: secrets the redactor must know too. */
  environmentSecrets(environment: ProcessEnvironment): string[] {
    return this.envFields.map(([, variable]) => environment.get(variable)).filter((v): v is string => v !== undefined);
  }

  /** What this call sends; not ok when a variable the connection reads is unset (never a call with an empty key). */
  forCall(environment: ProcessEnvironment, identity: CallIdentity): CallCredentials {
    if (this.fixed) return this.fixed;
    let secrets = this.storedSecrets;
    if (this.envFields.length > 0) {
      const resolved: Record<string, string> = { ...this.storedSecrets };
      const unset: string[] = [];
      for (const [field, variable] of this.envFields) {
        const value = environment.get(variable);
        if (value === undefined) unset.push(`${variable} (${field})`);
        else resolved[field] = value;
      }
      if (unset.length > 0) {
        return {
          ok: false,
          message: `The connection ${this.connection.name} reads its credentials from the environment, but ${unset.join(', ')} ${unset.length > 1 ? 'are' : 'is'} not set on this gateway.`,
        };
      }
      secrets = resolved;
    }
    let headers = this.connection.headers;
    if (this.templated.length > 0) {
      const values: HeaderTemplateValues = { user: identity.user, email: identity.email, model: identity.model, request_id: identity.requestId, api_key: secrets.apiKey ?? '' };
      const rendered: Record<string, string> = { ...headers };
      for (const [header, template] of this.templated) rendered[header] = template.render(values);
      headers = rendered;
    }
    return { ok: true, secrets, headers };
  }
}

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { Ajv, type ErrorObject } from 'ajv';
import { parse } from 'yaml';

/**
 * docker-compose.yml, checked offline (no container engine runs on our machines): against the
 * official Compose specification schema (compose-spec.json as the dclint package ships it), and
 * against what the product needs from it.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
const DOCKERFILE = path.join(ROOT, 'deploy/Dockerfile');
// compose-spec/compose-spec schema/compose-spec.json, vendored by dclint (`npm run update-compose-schema` there).
const COMPOSE_SCHEMA = path.join(ROOT, 'node_modules/dclint/schemas/compose.schema.json');
const SERVICES = ['gateway', 'credential-vault', 'model-registry', 'usage-metering', 'evaluator'] as const;

type ComposeService = {
  image?: string;
  build?: { context?: string; dockerfile?: string } | string;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[] | string };
  volumes?: string[];
  ports?: string[];
};
type ComposeFile = { services: Record<string, ComposeService>; [key: string]: unknown };

function loadCompose(text = readFileSync(COMPOSE_FILE, 'utf8')): ComposeFile {
  // Compose resolves YAML merge keys (`<<: *anchor`) before it validates; so do we.
  return parse(text, { merge: true }) as ComposeFile;
}

const validateCompose = (() => {
  const schema = JSON.parse(readFileSync(COMPOSE_SCHEMA, 'utf8')) as Record<string, unknown>;
  // The file names draft-07 by an https URL ajv does not register; the content is draft-07.
  delete schema.$schema;
  // strictTypes off: the spec unions types (["string", "number"]) as JSON Schema allows.
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
  const validate = ajv.compile(schema);
  return (doc: unknown): ErrorObject[] => (validate(doc) ? [] : [...(validate.errors ?? [])]);
})();

/** The base images of a Dockerfile's stages, with ARG defaults substituted. */
function baseImages(dockerfile: string): string[] {
  const args = new Map<string, string>();
  const images: string[] = [];
  for (const line of dockerfile.split('\n').map((l) => l.trim())) {
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)/i.exec(line);
    if (arg) args.set(arg[1]!, arg[2]!);
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)/i.exec(line);
    if (from) images.push(from[1]!.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => args.get(name) ?? `<unset ${name}>`));
  }
  return images;
}

describe('docker-compose.yml', () => {
  const compose = loadCompose();

  it('is valid against the Compose specification', () => {
    expect(validateCompose(compose)).toEqual([]);
  });

  it.each([
    ['an unknown top-level key', (c: ComposeFile) => void (c.servics = c.services)],
    ['an unknown service key', (c: ComposeFile) => void ((c.services.gateway as Record<string, unknown>).commandd = ['node'])],
    ['an unknown depends_on condition', (c: ComposeFile) => void (c.services.gateway!.depends_on!.postgres = { condition: 'service_ready' })],
    ['a command that is a number', (c: ComposeFile) => void ((c.services.evaluator as Record<string, unknown>).command = 42)],
    ['a healthcheck with an unknown key', (c: ComposeFile) => void ((c.services.gateway!.healthcheck as Record<string, unknown>).url = '/health/ready')],
  ])('fails validation with %s', (_what, breakIt) => {
    const broken = loadCompose();
    breakIt(broken);
    expect(validateCompose(broken)).not.toEqual([]);
  });

  it('runs the five services from the one image built by deploy/Dockerfile', () => {
    const services = SERVICES.map((name) => compose.services[name]);
    expect(services.every((s) => s !== undefined)).toBe(true);
    const [first, ...rest] = services as ComposeService[];
    expect(first!.build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' });
    expect(first!.image).toEqual(expect.any(String));
    for (const s of rest) {
      expect(s.build).toEqual(first!.build);
      expect(s.image).toBe(first!.image);
    }
    expect(existsSync(path.join(ROOT, 'deploy/Dockerfile'))).toBe(true);
  });

  it.each(SERVICES)('runs %s from its own entry point, which the build produces', (name) => {
    expect(compose.services[name]!.command).toEqual(['node', `dist/apps/${name}/src/main.js`]);
    expect(existsSync(path.join(ROOT, `apps/${name}/src/main.ts`))).toBe(true);
    // The unit project runs after `npm run build` (its global setup loads dist/), so the output is there.
    expect(existsSync(path.join(ROOT, `dist/apps/${name}/src/main.js`))).toBe(true);
  });

  it('gives every service the database and the bus, waiting for both to be healthy', () => {
    for (const name of SERVICES) {
      const s = compose.services[name]!;
      expect(s.environment).toMatchObject({ DATABASE_URL: expect.stringMatching(/^postgres:\/\/.+@postgres:5432\//), NATS_URL: 'nats://nats:4222', NATS_USER: name });
      expect(s.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' }, nats: { condition: 'service_healthy' } });
    }
    expect(compose.services.postgres!.healthcheck).toBeDefined();
    expect(compose.services.nats!.healthcheck).toBeDefined();
  });

  it('listens on 0.0.0.0 inside its container, published where the operator says, with a readiness health check', () => {
    const gateway = compose.services.gateway!;
    expect(gateway.environment).toMatchObject({ HOST: '0.0.0.0', PORT: '8080' });
    // Bound to an interface the operator chooses, loopback by default.
    expect(gateway.ports).toEqual(['${GATEWAY_BIND:-127.0.0.1}:${GATEWAY_PORT:-8080}:8080']);
    expect(JSON.stringify(gateway.healthcheck!.test)).toContain('/health/ready');
  });

  it('takes every secret from the environment, never from the file', () => {
    const secretNames = /PASSWORD|SECRET|MASTER_KEY|BOOTSTRAP_KEY|TOKEN/;
    const seen: string[] = [];
    for (const [serviceName, s] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (secretNames.test(key)) {
          seen.push(`${serviceName}.${key}`);
          expect({ key, value }).toEqual({ key, value: expect.stringMatching(/^\$\{[A-Z0-9_]+(:[-?][^}]*)?\}$/) });
        }
      }
    }
    expect(seen).toEqual(expect.arrayContaining(['postgres.POSTGRES_PASSWORD', 'credential-vault.VAULT_MASTER_KEY', 'gateway.NATS_PASSWORD']));
    // The database password inside DATABASE_URL too.
    expect(compose.services.gateway!.environment!.DATABASE_URL).toMatch(/^postgres:\/\/gateway:\$\{POSTGRES_PASSWORD:\?[^}]*\}@/);
    // Only the vault holds the master key.
    const holders = Object.entries(compose.services).filter(([, s]) => s.environment && 'VAULT_MASTER_KEY' in s.environment).map(([n]) => n);
    expect(holders).toEqual(['credential-vault']);
  });

  it('runs Postgres 18 and NATS with JetStream and the users of deploy/nats/nats.conf', () => {
    const postgres = compose.services.postgres!;
    expect(postgres.image).toBe('postgres:18');
    expect(postgres.volumes).toEqual(['postgres-data:/var/lib/postgresql']);
    const nats = compose.services.nats!;
    expect(nats.image).toMatch(/^nats:2(-|$)/);
    expect(nats.command).toEqual(expect.arrayContaining(['-js', '--config', '/etc/nats/nats.conf']));
    expect(nats.volumes).toContain('./deploy/nats/nats.conf:/etc/nats/nats.conf:ro');
    const natsConf = readFileSync(path.join(ROOT, 'deploy/nats/nats.conf'), 'utf8');
    const users = [...natsConf.matchAll(/user:\s*"([^"]+)",\s*password:\s*\$([A-Z0-9_]+)/g)].map((m) => ({ user: m[1]!, passwordVar: m[2]! }));
    expect(users.map((u) => u.user).sort()).toEqual([...SERVICES].sort());
    for (const { user, passwordVar } of users) {
      // nats-server reads the password from its environment; the service gets the same variable.
      expect(nats.environment![passwordVar]).toMatch(new RegExp(`^\\$\\{${passwordVar}:\\?`));
      expect(compose.services[user]!.environment!.NATS_PASSWORD).toMatch(new RegExp(`^\\$\\{${passwordVar}:\\?`));
    }
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = readFileSync(DOCKERFILE, 'utf8');

  it('builds and runs on Node 24', () => {
    const images = baseImages(dockerfile);
    expect(images.length).toBeGreaterThanOrEqual(2);
    for (const image of images) expect(image).toMatch(/^node:24(\.\d+)*(-[a-z0-9.-]+)?$/);
    // The same major as the runtime the repository pins.
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string }; devDependencies: Record<string, string> };
    expect(pkg.engines.node).toBe('>=24');
    expect(pkg.devDependencies.node).toMatch(/^\^?24\./);
  });

  it('reads the base image of each stage, so a wrong one would be caught', () => {
    expect(baseImages('ARG BASE=node:20-slim\nFROM ${BASE} AS build\nFROM node:24-slim')).toEqual(['node:20-slim', 'node:24-slim']);
  });

  it('installs with the lockfile, builds, drops dev dependencies and runs as a non-root user', () => {
    expect(dockerfile).toMatch(/^RUN npm install\b/m);
    expect(dockerfile).not.toMatch(/^RUN\b.*\bnpm ci\b/m);
    expect(dockerfile).toMatch(/npm run build/);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('node');
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/apps\/main\.js"\]$/m);
  });

  it('copies nothing that .dockerignore leaves out of the build context', () => {
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const sources = [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/).slice(0, -1));
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'apps', 'libs']));
    for (const source of sources) {
      expect(existsSync(path.join(ROOT, source))).toBe(true);
      expect({ source, ignoredBy: ignored.filter((p) => p === source || source.startsWith(`${p.replace(/\/$/, '')}/`)) }).toEqual({ source, ignoredBy: [] });
    }
  });
});

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, LISTENING, REPO_ROOT, spawnProcess } from '../helpers/process';
import { tryConnect } from '../helpers/socket-client';
import { parseYamlSubset } from '../helpers/yaml-subset';

const run = promisify(execFile);
const read = (p: string) => readFileSync(path.join(REPO_ROOT, p), 'utf8');
const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };

type Service = {
  image?: string;
  build?: unknown;
  command?: string[];
  restart?: string;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
};

describe('docker-compose.yml', () => {
  const compose = parseYamlSubset(read('docker-compose.yml')) as { services: Record<string, Service> };
  const services = compose.services;
  const runs = (s: Service, file: string) => JSON.stringify(s.command) === JSON.stringify(['node', file]);
  const servers = Object.entries(services).filter(([, s]) => runs(s, 'dist/src/main.js'));
  const workers = Object.entries(services).filter(([, s]) => runs(s, 'dist/workers/file-worker.js'));

  it('runs two server replicas, the file worker, PostgreSQL, Redis and nginx, each with a health check and a restart policy', () => {
    expect(servers.map(([name]) => name)).toHaveLength(2);
    expect(workers).toHaveLength(1);
    expect(services.postgres?.image).toMatch(/^postgres:/);
    expect(services.redis?.image).toMatch(/^redis:/);
    expect(services.nginx?.image).toMatch(/^nginx:/);
    for (const [name, s] of Object.entries(services)) {
      expect(s.healthcheck?.test?.length, `${name} has a health check`).toBeGreaterThan(0);
      expect(['always', 'unless-stopped', 'on-failure'], `${name} has a restart policy`).toContain(s.restart);
    }
  });

  it('starts the servers and the worker on healthy PostgreSQL and Redis, pointed at those services', () => {
    for (const [name, s] of [...servers, ...workers]) {
      expect(s.depends_on?.postgres?.condition, name).toBe('service_healthy');
      expect(s.depends_on?.redis?.condition, name).toBe('service_healthy');
      expect(new URL(s.environment!.DATABASE_URL!).hostname, name).toBe('postgres');
      expect(new URL(s.environment!.REDIS_URL!).hostname, name).toBe('redis');
      expect(s.environment!.JWT_SECRET, `${name}: one JWT secret for all`).toMatch(/^\$\{JWT_SECRET:\?/);
      expect(s.build, `${name} is built from the Dockerfile`).toBe('.');
      // The same files volume: uploads a server stored are there for the worker to parse.
      expect(s.volumes).toContain('files:/data');
    }
    // The worker's health check is a compiled script of this repository.
    expect(workers[0]![1].healthcheck!.test).toEqual(['CMD', 'node', 'dist/workers/health-check.js']);
  });

  it('puts nginx in front with deploy/nginx.conf: both replicas upstream, sticky by ip_hash, WebSocket upgrade headers', () => {
    const nginx = services.nginx!;
    const mount = nginx.volumes!.find((v) => v.endsWith(':/etc/nginx/nginx.conf:ro'))!;
    expect(mount).toBeDefined();
    const confPath = mount.split(':')[0]!.replace(/^\.\//, '');
    expect(confPath).toBe('deploy/nginx.conf');
    const conf = read(confPath);
    const upstream = conf.match(/upstream\s+(\w+)\s*\{([^}]*)\}/);
    expect(upstream).not.toBeNull();
    const members = [...upstream![2]!.matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
    expect(members.sort()).toEqual(servers.map(([name]) => `${name}:3000`).sort());
    expect(upstream![2]).toMatch(/^\s*ip_hash;/m);
    expect(conf).toContain(`proxy_pass http://${upstream![1]};`);
    expect(conf).toMatch(/proxy_http_version 1\.1;/);
    expect(conf).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(conf).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    expect(conf).toMatch(/map \$http_upgrade \$connection_upgrade/);
    for (const [name] of servers) expect(nginx.depends_on?.[name]?.condition).toBe('service_healthy');
    expect(nginx.ports?.some((p) => p.endsWith(':80'))).toBe(true);
  });
});

describe('the Dockerfile', () => {
  const stages = read('Dockerfile')
    .split(/^(?=FROM )/m)
    .filter((s) => s.startsWith('FROM '));
  const final = stages.at(-1)!;

  it('builds in one stage and ships production dependencies and compiled JavaScript in the last', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const depsStage = stages.find((s) => /npm ci [^\n]*--omit=dev/.test(s));
    expect(depsStage, 'a stage installs with npm ci --omit=dev').toBeDefined();
    const depsName = depsStage!.match(/^FROM \S+ AS (\S+)/)![1];
    expect(final).toContain(`COPY --from=${depsName} /app/node_modules ./node_modules`);
    expect(final).toMatch(/COPY --from=\S+ \/app\/dist \.\/dist/);
    // package.json says "type": "module": without it Node would read dist/ as CommonJS.
    expect(final).toMatch(/^COPY package\.json \.\/$/m);
    // No install of every dependency, and no TypeScript sources or tsx, in the image.
    expect(final).not.toMatch(/npm (ci|install)/);
    expect(final).not.toMatch(/COPY \. /);
    expect(final).not.toContain('tsx');
    const cmd = JSON.parse(final.match(/^CMD (.*)$/m)![1]!) as string[];
    expect(cmd).toEqual(['node', 'dist/src/main.js']);
    expect(final).toMatch(/^USER node$/m);
    expect(final).toMatch(/^HEALTHCHECK /m);
  });

  it('has npm start and npm run worker on the compiled output, tsx a dev dependency only', () => {
    expect(pkg.scripts.start).toBe('node dist/src/main.js');
    expect(pkg.scripts.worker).toBe('node dist/workers/file-worker.js');
    expect(pkg.scripts.dev).toMatch(/^tsx /);
    expect(pkg.dependencies.tsx).toBeUndefined();
    expect(pkg.devDependencies.tsx).toBeDefined();
    expect(pkg.scripts.build).toBe('npm run build:server && npm run build:client --if-present && npm run build:web --if-present');
  });
});

function* jsFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yield* jsFiles(p);
    else if (/\.m?js$/.test(name)) yield p;
  }
}

describe('the production build, started as the image starts it', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-dist-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const dist = path.join(REPO_ROOT, 'dist');

  it('compiles with npm run build:server, importing only production dependencies', async () => {
    const r = await run('npm', ['run', '-s', 'build:server'], { cwd: REPO_ROOT, env: cleanEnv({}) });
    expect(r.stdout).toContain('dist ready');
    for (const f of ['src/main.js', 'workers/file-worker.js', 'workers/health-check.js', 'src/cli/token.js', 'src/files/parsing/pool-entry.mjs']) {
      expect(existsSync(path.join(dist, f)), f).toBe(true);
    }
    expect(readdirSync(path.join(dist, 'migrations')).filter((f) => f.endsWith('.js')).length).toBe(readdirSync(path.join(REPO_ROOT, 'migrations')).filter((f) => f.endsWith('.ts')).length);
    // What `npm ci --omit=dev` installs is enough: every package the compiled code imports is a
    // production dependency (or one of Node's own modules).
    const builtins = new Set(builtinModules);
    const imported = new Set<string>();
    for (const file of jsFiles(dist)) {
      const source = readFileSync(file, 'utf8');
      // Import and export statements (at the start of a line, as tsc writes them) and import(): not SQL's `from "turns"`.
      const statements = /^(?:import|export)\b[^;'"`(=]*?\bfrom\s*['"]([^'"./][^'"]*)['"]|^import\s*['"]([^'"./][^'"]*)['"]|\bimport\(\s*['"]([^'"./][^'"]*)['"]\s*\)/gm;
      for (const m of source.matchAll(statements)) {
        const spec = (m[1] ?? m[2] ?? m[3])!;
        if (spec.startsWith('node:') || builtins.has(spec)) continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
      // Relative imports name their files, as Node's ESM loader needs.
      for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]*)['"]/g)) {
        expect(m[1], `${path.relative(dist, file)} imports ${m[1]}`).toMatch(/\.(m?js|json)$/);
      }
    }
    expect(imported.size).toBeGreaterThan(5);
    for (const name of imported) expect(Object.keys(pkg.dependencies), `${name} is a production dependency`).toContain(name);
  }, 180_000);

  it('serves /health and a socket connection from node dist/src/main.js (embedded mode, port from the environment)', async () => {
    const env = cleanEnv({ PORT: '0', DATA_DIR: dataDir, NODE_ENV: 'production' });
    const proc = spawnProcess(process.execPath, ['dist/src/main.js'], env);
    try {
      const [, url] = await proc.waitFor(LISTENING, 90_000);
      const health = await fetch(`${url}/api/v1/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });
      // The compiled token command signs with the secret the server generated under DATA_DIR.
      const token = (await run(process.execPath, ['dist/src/cli/token.js', '--sub', 'alice'], { cwd: REPO_ROOT, env })).stdout.trim();
      expect(await tryConnect(url!, token)).toBe('connected');
      expect(await tryConnect(url!, 'not-a-token')).toMatchObject({ code: 'TOKEN_INVALID' });
      const me = await fetch(`${url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      // Logs are JSON lines on stdout, the start-up banner among them.
      const banner = proc
        .output()
        .split('\n')
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            return undefined;
          }
        })
        .find((l) => l?.msg === 'listening');
      expect(banner).toMatchObject({ mode: 'embedded', dataDir, models: ['demo'], defaultModel: 'demo', token: expect.stringContaining('npm run token') });
    } finally {
      await proc.stop('SIGTERM');
    }
  }, 120_000);
});

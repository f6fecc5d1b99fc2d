// After tsc (`build:server` into dist/, `build:client` into dist/client): makes the output usable by
// plain Node. The sources import relative modules without extensions (bundler-style resolution, as
// tsx and vitest read them); Node's ESM loader needs the file, so each relative specifier of the
// emitted JavaScript and declaration files gets `.js` or `/index.js`, whichever exists. With
// `--copy-mjs`, the .mjs files of src/ (the parse thread's bootstrap) are copied beside the compiled
// modules. Idempotent: a second run changes nothing.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const out = path.join(root, args.find((a) => !a.startsWith('--')) ?? 'dist');
const copyMjs = args.includes('--copy-mjs');

/** `from './x'`, `import './x'`, `import('./x')`, `export ... from './x'`. */
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*)\2/g;
const HAS_EXTENSION = /\.(?:[cm]?js|json|node)$/;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else yield p;
  }
}

let rewritten = 0;
for (const file of files(out)) {
  if (!file.endsWith('.js') && !file.endsWith('.d.ts')) continue;
  const source = readFileSync(file, 'utf8');
  const next = source.replace(SPECIFIER, (whole, head, quote, spec) => {
    if (HAS_EXTENSION.test(spec)) return whole;
    const base = path.resolve(path.dirname(file), spec);
    const exists = (p) => existsSync(`${p}.js`) || existsSync(`${p}.d.ts`);
    const suffix = exists(base) ? '.js' : exists(path.join(base, 'index')) ? '/index.js' : undefined;
    if (!suffix) throw new Error(`${path.relative(root, file)}: cannot resolve ${spec}`);
    return `${head}${quote}${spec}${suffix}${quote}`;
  });
  if (next !== source) {
    writeFileSync(file, next);
    rewritten++;
  }
}

let copied = 0;
for (const file of copyMjs ? files(path.join(root, 'src')) : []) {
  if (!file.endsWith('.mjs')) continue;
  const target = path.join(out, path.relative(root, file));
  // Unchanged files are left alone: a running server may be loading them.
  if (existsSync(target) && readFileSync(target).equals(readFileSync(file))) continue;
  mkdirSync(path.dirname(target), { recursive: true });
  copyFileSync(file, target);
  copied++;
}
console.log(`dist ready: ${rewritten} modules given explicit specifiers, ${copied} .mjs files copied`);

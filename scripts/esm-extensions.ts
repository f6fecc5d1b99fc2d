// Node's ES module loader needs full file names in relative imports; the sources are written for a
// bundler (`./dto`). This adds `.js` (or `/index.js` for a folder) to every relative specifier of
// the compiled JavaScript and declaration files under the folder given.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(process.argv[2] ?? 'dist/client');
const specifier = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}(?:\/[^'"]*)?)\2/g;

function fix(file: string) {
  const dir = path.dirname(file);
  const text = readFileSync(file, 'utf8');
  const out = text.replace(specifier, (all, lead: string, q: string, spec: string) => {
    if (/\.(m?js|json)$/.test(spec)) return all;
    const target = path.resolve(dir, spec);
    if (/[^./]$/.test(spec) && (existsSync(`${target}.js`) || existsSync(`${target}.d.ts`))) return `${lead}${q}${spec}.js${q}`;
    if (existsSync(path.join(target, 'index.js')) || existsSync(path.join(target, 'index.d.ts'))) return `${lead}${q}${spec.replace(/\/$/, '')}/index.js${q}`;
    throw new Error(`${file}: cannot resolve ${spec}`);
  });
  if (out !== text) writeFileSync(file, out);
}

function walk(dir: string) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(js|d\.ts)$/.test(name)) fix(p);
  }
}
walk(root);

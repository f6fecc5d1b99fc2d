import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'vite';

const ROOT = path.resolve(import.meta.dirname, '../..');
const OUT = path.join(ROOT, 'dist/web/index.html');

/** Newest modification time of the files under the folders the web build reads. */
function newest(dirs: string[]): number {
  let t = 0;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else t = Math.max(t, s.mtimeMs);
    }
  };
  for (const d of dirs) walk(path.join(ROOT, d));
  return t;
}

/** The browser tests load the built web room: build it once when it is missing or older than its sources. */
export default async function buildWebOnce() {
  const stale = !existsSync(OUT) || statSync(OUT).mtimeMs < newest(['web', 'src/client', 'src/contract']);
  if (!stale) return;
  await build({ configFile: path.join(ROOT, 'web/vite.config.ts'), configLoader: 'native', logLevel: 'warn' });
}

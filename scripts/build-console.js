// Builds the web console (web/ → web/dist/) with Vite. Run by `npm install` / `npm ci` through
// the `prepare` script, so `npx fanout serve` finds the console without a separate step.
// Prints the compressed size of the JavaScript the first page load needs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let viteBin;
try {
  viteBin = path.join(path.dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
} catch {
  // An install without devDependencies (npm ci --omit=dev) cannot build; a shipped web/dist still serves.
  const built = fs.existsSync('web/dist/index.html');
  console.warn(`fanout: vite is not installed, the console was not built${built ? ' (the existing web/dist is kept)' : '; run "npm install" with dev dependencies, then "npm run build:console"'}`);
  process.exit(0);
}

const result = spawnSync(process.execPath, [viteBin, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);

// The first load: index.html's entry chunk and every chunk it imports statically.
const manifest = JSON.parse(fs.readFileSync('web/dist/.vite/manifest.json', 'utf8'));
const entry = Object.values(manifest).find((m) => m.isEntry);
const seen = new Set();
const walk = (key) => {
  const m = manifest[key] ?? Object.values(manifest).find((x) => x.file === key);
  if (!m || seen.has(m.file)) return;
  seen.add(m.file);
  for (const i of m.imports ?? []) walk(i);
};
walk(Object.keys(manifest).find((k) => manifest[k] === entry));
let raw = 0;
let br = 0;
let gz = 0;
for (const file of seen) {
  const p = path.join('web/dist', file);
  raw += fs.statSync(p).size;
  br += fs.statSync(`${p}.br`).size;
  gz += fs.statSync(`${p}.gz`).size;
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`fanout console built in web/dist: first load ${seen.size} JS files, ${kb(raw)} raw, ${kb(gz)} gzip, ${kb(br)} brotli`);

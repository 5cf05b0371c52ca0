#!/usr/bin/env node
// Fanout's command line. It runs on Node 24 (type stripping runs the TypeScript sources
// directly); when started by an older system Node, it hands over to the project's own Node 24.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const local = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(local)) {
    console.error(`fanout needs Node.js 24 or later (this is ${process.version}); run "npm install" in the project first`);
    process.exit(1);
  }
  const result = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
await import('../src/app/cli.ts');

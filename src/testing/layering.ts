import fs from 'node:fs';
import path from 'node:path';

/**
 * The import rules of docs/architecture.md, checked over source files:
 * - `core` imports only itself; `store` only `core` and itself;
 * - the platform folders (config, http, cli, smtp, platform) import no capability;
 * - a capability imports another capability only through that one's `index.ts`;
 * - no import cycle between folders;
 * - only the composition root (`app`) and the test helpers (`testing`) sit above the
 *   capabilities: nothing else imports them.
 * Test files (`*.test.ts`) are not part of the layering and are not checked.
 */

export const BOTTOM = new Set(['core', 'store']);
export const PLATFORM = new Set(['config', 'http', 'cli', 'smtp', 'platform']);
export const ROOT = new Set(['app', 'testing']);

/** What imports what: source file (relative to src/, e.g. `delivery/index.ts`) → imported files (same form). */
export type ImportGraph = Map<string, string[]>;

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"`;]*?from\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|declare module\s+['"]([^'"]+)['"]/g;

/** Reads every non-test .ts file under `srcDir` and the relative imports it makes. */
export function readImportGraph(srcDir: string): ImportGraph {
  const graph: ImportGraph = new Map();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) {
        const text = fs.readFileSync(full, 'utf8');
        const targets: string[] = [];
        for (const m of text.matchAll(IMPORT)) {
          const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
          if (!spec || !spec.startsWith('.')) continue;
          targets.push(path.relative(srcDir, path.resolve(path.dirname(full), spec)).split(path.sep).join('/'));
        }
        graph.set(path.relative(srcDir, full).split(path.sep).join('/'), targets);
      }
    }
  };
  walk(srcDir);
  return graph;
}

const folderOf = (file: string) => file.split('/')[0]!;
const kind = (folder: string) => (BOTTOM.has(folder) ? 'bottom' : PLATFORM.has(folder) ? 'platform' : ROOT.has(folder) ? 'root' : 'capability');

/** Every broken rule, one line each (empty when the code keeps to the layering). */
export function layeringViolations(graph: ImportGraph): string[] {
  const problems: string[] = [];
  const folderEdges = new Map<string, Map<string, string>>();
  for (const [file, targets] of graph) {
    const from = folderOf(file);
    for (const target of targets) {
      if (target.startsWith('..')) continue; // outside src/ (package.json, web/)
      const to = folderOf(target);
      if (to === from || !target.includes('/')) continue;
      const edges = folderEdges.get(from) ?? new Map<string, string>();
      if (!edges.has(to)) edges.set(to, `${file} → ${target}`);
      folderEdges.set(from, edges);
      const fromKind = kind(from);
      const toKind = kind(to);
      if (from === 'core') problems.push(`core imports only itself: ${file} → ${target}`);
      else if (from === 'store' && to !== 'core') problems.push(`store imports only core: ${file} → ${target}`);
      else if (fromKind === 'platform' && (toKind === 'capability' || toKind === 'root')) problems.push(`${from} is below the capabilities: ${file} → ${target}`);
      else if (fromKind === 'capability' && toKind === 'root') problems.push(`a capability imports no composition root or test helper: ${file} → ${target}`);
      else if (fromKind === 'capability' && toKind === 'capability' && target !== `${to}/index.ts`) problems.push(`${to} is reached only through its index.ts: ${file} → ${target}`);
      else if (fromKind === 'root' && toKind === 'capability' && target !== `${to}/index.ts` && target !== `${to}/capability.ts`) problems.push(`${to} is reached only through its index.ts (or capability.ts from the root): ${file} → ${target}`);
    }
  }
  for (const cycle of folderCycles(folderEdges)) problems.push(`folder import cycle: ${cycle}`);
  return problems;
}

/** Each cycle between folders once, as `a → b → a (a/x.ts → b/index.ts; ...)`. */
function folderCycles(edges: Map<string, Map<string, string>>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of edges.get(node)?.keys() ?? []) {
      if (state.get(next) === 'open') {
        const loop = [...stack.slice(stack.indexOf(next)), next];
        const key = [...loop.slice(0, -1)].sort().join(',');
        if (!seen.has(key)) {
          seen.add(key);
          const because = loop.slice(0, -1).map((f, i) => edges.get(f)!.get(loop[i + 1]!)!).join('; ');
          out.push(`${loop.join(' → ')} (${because})`);
        }
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return out;
}

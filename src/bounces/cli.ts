import type { Command } from 'commander';
import { classifyFiles } from './files.ts';

export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: Output = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/**
 * `bounces classify`: one JSON line per recipient on stdout, problems on stderr. Returns the exit
 * code: 1 when any file could not be read (after processing all the others), else 0.
 */
export async function runClassify(files: string[], out: Output = processOutput): Promise<number> {
  const result = await classifyFiles(files);
  for (const line of result.lines) out.stdout(JSON.stringify(line) + '\n');
  for (const file of result.unrecognised) out.stderr(`${file}: no bounce, complaint or auto-reply recipient found\n`);
  for (const e of result.errors) out.stderr(`${e.file}: cannot read: ${e.message}\n`);
  return result.errors.length > 0 ? 1 : 0;
}

/** Adds `bounces classify <files...>` to the fanout CLI. */
export function registerBounceCommands(program: Command): void {
  const bounces = program.command('bounces').description('bounce and complaint tools');
  bounces
    .command('classify')
    .description('classify bounce, complaint and auto-reply messages; prints one JSON object a line per recipient')
    .argument('<files...>', 'raw message files (.eml)')
    .action(async (files: string[]) => {
      const code = await runClassify(files);
      if (code !== 0) process.exitCode = code;
    });
}

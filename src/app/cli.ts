import { Command, CommanderError } from 'commander';
import { setQuotaTimezone } from '../accounts/quota.ts';
import { ConfigError, printableConfig } from '../config/load.ts';
import { AppError } from '../core/errors.ts';
import { SecretKeyError } from '../core/secret-box.ts';
import type { Role } from './server.ts';
import { contextOpener } from '../cli/context.ts';
import type { GlobalOptions } from '../cli/context.ts';
import { configSections, loadAppConfig, migrations, registerCapabilityCommands } from './capabilities.ts';
import { registerFoundationCommands } from './foundation-commands.ts';
import { registerSecretCommands } from './secret-commands.ts';

const program = new Command('fanout')
  .description('Fanout: bulk and transactional email for banks and securities firms')
  .option('-c, --config <file>', 'configuration file (JSON); default FANOUT_CONFIG or ./fanout.config.json')
  .showHelpAfterError()
  .exitOverride();

const globals = () => program.opts<GlobalOptions>();
const withContext = contextOpener({ sections: configSections, migrations, prepare: (config) => setQuotaTimezone(config.timezone) });

program.command('serve').description('run Fanout (HTTP API, SMTP submission, bounce listener, sender) in one process')
  .option('--roles <roles>', 'comma-separated subset of http,smtp,bounce,sender')
  .action(async (o: { roles?: string }) => {
    const overrides: Record<string, unknown> = {};
    if (o.roles) overrides.roles = o.roles.split(',').map((r) => r.trim()).filter(Boolean) as Role[];
    const config = loadAppConfig({ file: globals().config ?? null, overrides });
    // Loaded on demand: the other commands start faster without the server's modules.
    const { runServer } = await import('./server.ts');
    await runServer(config);
  });

program.command('migrate').description('create or upgrade the store schema').action(() => withContext(globals(), async ({ store }) => {
  // withContext has migrated already; report where.
  console.log(`store is up to date (${store.engine})`);
}));

program.command('config').description('print the effective configuration (secrets masked)').action(() => {
  console.log(JSON.stringify(printableConfig(loadAppConfig({ file: globals().config ?? null })), null, 2));
});

registerFoundationCommands(program, withContext);
registerSecretCommands(program, withContext);
registerCapabilityCommands(program, withContext);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof AppError || err instanceof ConfigError || err instanceof SecretKeyError) {
    console.error(`fanout: ${err.message}${err instanceof AppError && err.problems.length ? `\n${err.problems.map((p) => `  ${p.field}: ${p.message}`).join('\n')}` : ''}`);
    process.exitCode = 1;
  } else {
    console.error(`fanout: ${(err as Error)?.stack ?? String(err)}`);
    process.exitCode = 1;
  }
}

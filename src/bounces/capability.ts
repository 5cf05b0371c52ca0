import { defineCapability } from '../platform/capability.ts';
import * as bouncesMigration from '../store/migrations/0200_bounces.ts';
import { registerBounceCommands } from './cli.ts';
import { BounceListenerConfigSchema } from './config.ts';
import { suppressionRoutes } from './routes.ts';

/** The bounce listener, classification and the suppression list. */
export const bounces = defineCapability({
  name: 'bounces',
  migrations: [{ name: '0200_bounces', up: bouncesMigration.up }],
  routes: [suppressionRoutes],
  commands: (program) => registerBounceCommands(program),
  config: { bounce: BounceListenerConfigSchema },
});

import { defineCapability } from '../platform/capability.ts';
import { consoleRoutes } from './index.ts';

/** The web console's files. */
export const webConsole = defineCapability({ name: 'console', publicRoutes: [consoleRoutes] });

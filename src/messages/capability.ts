import { defineCapability } from '../platform/capability.ts';
import * as messagesApi from '../store/migrations/0010_messages_api.ts';
import { messageRoutes } from './routes.ts';

/** The send API: messages accepted over HTTP. */
export const messages = defineCapability({
  name: 'messages',
  migrations: [{ name: '0010_messages_api', up: messagesApi.up }],
  routes: [messageRoutes],
});

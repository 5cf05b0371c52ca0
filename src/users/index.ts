/** The users capability's surface: what the other capabilities may use. */
export { sessionFromToken } from './login.ts';
export { bootstrapAdministrator, createUser, getUser, listUsers, setUserPassword, updateUser } from './service.ts';
export { disableTotp } from './totp.ts';

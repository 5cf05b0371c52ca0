/** The accounts capability's surface: what the other capabilities may use. */
export { authenticateApiKey, createApiKey, listApiKeys, revokeApiKey } from './apikeys.ts';
export { setQuotaTimezone } from './quota.ts';
export { accountsForClientIp, authenticateSmtp, createAccount, deleteAccount, getAccount, listAccounts, reserveQuota, resolveAccount, setAccountPassword, updateAccount } from './service.ts';
export type { SendingAccount } from './service.ts';

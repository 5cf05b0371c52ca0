import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { createApiKey, listApiKeys, revokeApiKey } from '../accounts/apikeys.ts';
import { createAccount, deleteAccount, listAccounts, resolveAccount, setAccountPassword, updateAccount } from '../accounts/service.ts';
import { verifyOperationLog } from '../audit/log.ts';
import { listOperations } from '../audit/queries.ts';
import { createTenant, listTenants, resolveTenant } from '../tenants/service.ts';
import { createUser, getUser, listUsers, setUserPassword, updateUser } from '../users/service.ts';
import { disableTotp } from '../users/totp.ts';
import { printTable } from '../cli/context.ts';
import type { ContextOpener, GlobalOptions } from '../cli/context.ts';

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

const json = (v: unknown) => console.log(JSON.stringify(v));

export function registerFoundationCommands(program: Command, withContext: ContextOpener): void {
  const globals = () => program.opts<GlobalOptions>();

  const tenants = program.command('tenants').description('tenants (client companies)');
  tenants.command('create').description('create a tenant').requiredOption('--name <name>', 'tenant name')
    .option('--account-type <type>', 'bulk (群发客户) or transactional', 'bulk')
    .action((o: { name: string; accountType: string }) => withContext(globals(), async ({ store, actor }) => json(await createTenant(store, actor, { name: o.name, accountType: o.accountType }))));
  tenants.command('list').description('list tenants with purchased / used / remaining').option('--json', 'one JSON object per line')
    .action((o: { json?: boolean }) => withContext(globals(), async ({ store }) => {
      const items = await listTenants(store.db);
      if (o.json) items.forEach(json);
      else printTable(items as unknown as Record<string, unknown>[], ['id', 'name', 'accountType', 'status', 'purchased', 'used', 'remaining']);
    }));

  const accounts = program.command('accounts').description('sending accounts (SMTP credentials, quotas)');
  accounts.command('create').description('create a sending account; its name and password work for SMTP AUTH')
    .requiredOption('--tenant <tenant>', 'tenant name or id').requiredOption('--name <name>', 'account (SMTP user) name')
    .option('--password <password>', 'SMTP password').option('--quota <n>', 'purchased messages (default unlimited)', wholeNumber)
    .option('--sending-type <type>', 'total, daily or monthly', 'total')
    .option('--allow-ip <cidr>', 'client address or CIDR allowed to submit without AUTH (repeatable, comma-separated)', collect)
    .action((o: { tenant: string; name: string; password?: string; quota?: number; sendingType: string; allowIp?: string[] }) => withContext(globals(), async ({ store, actor }) => {
      const tenant = await resolveTenant(store.db, o.tenant);
      json(await createAccount(store, actor, { tenantId: tenant.id, name: o.name, password: o.password, quota: o.quota, sendingType: o.sendingType, allowIps: o.allowIp }));
    }));
  accounts.command('list').option('--tenant <tenant>', 'tenant name or id').option('--json', 'one JSON object per line')
    .action((o: { tenant?: string; json?: boolean }) => withContext(globals(), async ({ store }) => {
      const tenantId = o.tenant ? (await resolveTenant(store.db, o.tenant)).id : null;
      const items = await listAccounts(store.db, { tenantId });
      if (o.json) items.forEach(json);
      else printTable(items as unknown as Record<string, unknown>[], ['id', 'name', 'tenantId', 'status', 'sendingType', 'quota', 'used', 'remaining']);
    }));
  accounts.command('passwd').description('change an account\'s SMTP password').requiredOption('--tenant <tenant>').requiredOption('--name <name>').requiredOption('--password <password>')
    .action((o: { tenant: string; name: string; password: string }) => withContext(globals(), async ({ store, actor }) => {
      const account = await resolveAccount(store.db, (await resolveTenant(store.db, o.tenant)).id, o.name);
      await setAccountPassword(store, actor, account.id, o.password);
      console.log(`password of ${account.name} changed`);
    }));
  accounts.command('update').description('change quota, sending type, status or allowed addresses').requiredOption('--tenant <tenant>').requiredOption('--name <name>')
    .option('--quota <n>', 'purchased messages', wholeNumber).option('--unlimited', 'no quota').option('--sending-type <type>').option('--status <status>', 'active, held or disabled')
    .option('--allow-ip <cidr>', 'replace the allowed client addresses', collect)
    .action((o: { tenant: string; name: string; quota?: number; unlimited?: boolean; sendingType?: string; status?: string; allowIp?: string[] }) => withContext(globals(), async ({ store, actor }) => {
      const account = await resolveAccount(store.db, (await resolveTenant(store.db, o.tenant)).id, o.name);
      json(await updateAccount(store, actor, account.id, { quota: o.unlimited ? null : o.quota, sendingType: o.sendingType, status: o.status, allowIps: o.allowIp }));
    }));
  accounts.command('delete').requiredOption('--tenant <tenant>').requiredOption('--name <name>')
    .action((o: { tenant: string; name: string }) => withContext(globals(), async ({ store, actor }) => {
      const account = await resolveAccount(store.db, (await resolveTenant(store.db, o.tenant)).id, o.name);
      await deleteAccount(store, actor, account.id);
      console.log(`account ${account.name} deleted`);
    }));

  const apikeys = program.command('apikeys').description('API keys of sending accounts');
  apikeys.command('create').description('create an API key; the key is printed alone on the last line, once')
    .requiredOption('--tenant <tenant>').requiredOption('--account <account>', 'account name or id').option('--name <name>', 'label for the key')
    .action((o: { tenant: string; account: string; name?: string }) => withContext(globals(), async ({ store, actor }) => {
      const tenant = await resolveTenant(store.db, o.tenant);
      const account = await resolveAccount(store.db, tenant.id, o.account);
      const { key, apiKey } = await createApiKey(store, actor, { tenantId: tenant.id, accountId: account.id, name: o.name });
      console.log(`API key ${apiKey.id} (prefix ${apiKey.prefix}) for account ${account.name}; it is shown only now:`);
      console.log(key);
    }));
  apikeys.command('list').requiredOption('--tenant <tenant>').option('--account <account>')
    .action((o: { tenant: string; account?: string }) => withContext(globals(), async ({ store }) => {
      const tenant = await resolveTenant(store.db, o.tenant);
      const accountId = o.account ? (await resolveAccount(store.db, tenant.id, o.account)).id : undefined;
      printTable(await listApiKeys(store.db, { tenantId: tenant.id, accountId }) as unknown as Record<string, unknown>[], ['id', 'prefix', 'name', 'accountId', 'createdAt', 'revokedAt', 'lastUsedAt']);
    }));
  apikeys.command('revoke').argument('<id>', 'API key id')
    .action((id: string) => withContext(globals(), async ({ store, actor }) => {
      await revokeApiKey(store, actor, id, {});
      console.log(`API key ${id} revoked`);
    }));

  const users = program.command('users').description('console users');
  users.command('create').requiredOption('--username <name>').requiredOption('--role <role>', 'administrator, operator, auditor or support')
    .requiredOption('--password <password>').option('--tenant <tenant>', 'for operators: tenant name or id').option('--locale <locale>', 'zh-CN or en')
    .action((o: { username: string; role: string; password: string; tenant?: string; locale?: string }) => withContext(globals(), async ({ store, actor }) => {
      const tenantId = o.tenant ? (await resolveTenant(store.db, o.tenant)).id : undefined;
      json(await createUser(store, actor, { username: o.username, role: o.role, password: o.password, tenantId, locale: o.locale }));
    }));
  users.command('list').action(() => withContext(globals(), async ({ store }) => {
    printTable(await listUsers(store.db) as unknown as Record<string, unknown>[], ['id', 'username', 'role', 'tenantId', 'totpEnabled', 'locked', 'disabled']);
  }));
  users.command('reset-password').argument('<username>').requiredOption('--password <password>')
    .action((username: string, o: { password: string }) => withContext(globals(), async ({ store, actor }) => {
      const u = await getUser(store.db, username);
      await setUserPassword(store, actor, u.id, o.password);
      console.log(`password of ${u.username} changed; their sessions are closed`);
    }));
  users.command('unlock').argument('<username>').action((username: string) => withContext(globals(), async ({ store, actor }) => {
    const u = await getUser(store.db, username);
    await updateUser(store, actor, u.id, { unlock: true });
    console.log(`${u.username} unlocked`);
  }));
  users.command('reset-totp').argument('<username>').action((username: string) => withContext(globals(), async ({ store, actor }) => {
    const u = await getUser(store.db, username);
    await disableTotp(store, actor, u.id);
    console.log(`TOTP of ${u.username} removed; they enrol again at next login`);
  }));

  const audit = program.command('audit').description('the operation log (操作日志)');
  audit.command('verify').description('check the hash chain; exits 1 and names the first broken entry')
    .action(() => withContext(globals(), async ({ store }) => {
      const r = await verifyOperationLog(store.db);
      if (r.ok) {
        console.log(`operation log intact: ${r.checked} entries checked`);
        return;
      }
      console.log(`operation log BROKEN at entry ${r.firstBroken!.id} (${new Date(r.firstBroken!.at).toISOString()}): ${r.firstBroken!.reason}; ${r.checked} entries before it are intact`);
      process.exitCode = 1;
    }));
  audit.command('list').option('--operation <type>').option('--operator <name>').option('--limit <n>', 'entries', wholeNumber, 50)
    .action((o: { operation?: string; operator?: string; limit: number }) => withContext(globals(), async ({ store }) => {
      const { items } = await listOperations(store.db, { operation: o.operation, operator: o.operator, limit: o.limit });
      printTable(items as unknown as Record<string, unknown>[], ['id', 'at', 'operation', 'description', 'operator', 'clientIp']);
    }));
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { createTenant } from '../tenants/service.ts';
import { runCli } from '../testing/cli.ts';
import { testConfig } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { registerDomainCommands } from './cli.ts';
import type { DnsResolver } from './service.ts';

const actor = { operator: 'cli:test', clientIp: 'local', role: 'administrator' } as const;

describeEachEngine('domains commands', (get) => {
  const lines: string[] = [];
  const txt = new Map<string, string[][]>();
  const resolver: DnsResolver = {
    async resolveTxt(name) {
      const v = txt.get(name);
      if (!v) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return v;
    },
    async resolveMx() { throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }); },
  };
  const cli = async (...args: string[]) => {
    const { store, dataDir } = get();
    const config = testConfig(dataDir, { delivery: { heloName: 'mx.fanout.example' } });
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
    registerDomainCommands(program, { resolver, print: (l) => lines.push(l), context: (_g, fn) => fn({ config, store, actor }) });
    lines.length = 0;
    await program.parseAsync(args, { from: 'user' });
    return [...lines];
  };

  test('create prints the domain and one zone-file line per record', async () => {
    await createTenant(get().store, actor, { name: 'Card Centre' });
    const out = await cli('domains', 'create', '--tenant', 'Card Centre', '--domain', 'statements.bank.example', '--selector', 'st1');
    const comments = out.filter((l) => l.startsWith(';'));
    const records = out.filter((l) => !l.startsWith(';'));
    assert.match(comments[0]!, /^; sending domain statements\.bank\.example, id dm_\w+, tenant Card Centre$/);
    assert.equal(records.length, 5);
    for (const line of records) assert.match(line, /^[a-z0-9._-]+\.\t3600\tIN\t(TXT|MX)\t.+\t; [a-z_]+/);
    assert.ok(records.some((l) => l.startsWith('bounces.statements.bank.example.\t3600\tIN\tMX\t10 mx.fanout.example.\t')));
    const dkim = records.find((l) => l.startsWith('st1._domainkey.statements.bank.example.'))!;
    const value = [...dkim.split('\t; ')[0]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join('');
    assert.match(value, /^v=DKIM1; k=rsa; p=MIIBIjANBg[A-Za-z0-9+/=]+$/);
    // What `records` prints is the same fragment.
    assert.deepEqual((await cli('domains', 'records', 'statements.bank.example')).slice(1), out.slice(1));
    await assert.rejects(cli('domains', 'create', '--tenant', 'Card Centre', '--domain', 'bad domain'), /domain "bad domain" is not a valid domain name/);
    await assert.rejects(cli('domains', 'create', '--tenant', 'Nobody', '--domain', 'x.bank.example'), /tenant "Nobody" not found/);
  });

  test('the installed command (`fanout domains create`) in a child process: records out, bad names refused with exit 1', async () => {
    const { dataDir, databaseUrl, store } = get();
    const env = { FANOUT_DATA_DIR: dataDir, ...(databaseUrl ? { FANOUT_DATABASE_URL: databaseUrl } : {}) };
    const ok = runCli(['domains', 'create', '--tenant', 'Card Centre', '--domain', '银行.example'], env);
    assert.equal(ok.status, 0, ok.stderr);
    const lines = ok.stdout.trim().split('\n');
    assert.match(lines[0]!, /^; sending domain xn--[a-z0-9]+\.example \(银行\.example\), id dm_/);
    assert.equal(lines.filter((l) => /\tIN\t(TXT|MX)\t/.test(l)).length, 5);
    const before = await store.db.selectFrom('sending_domains').select('id').execute();
    const bad = runCli(['domains', 'create', '--tenant', 'Card Centre', '--domain', '10.0.0.1'], env);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /domain "10\.0\.0\.1" is not a valid domain name: an IP address is not a domain name/);
    assert.deepEqual(await store.db.selectFrom('sending_domains').select('id').execute(), before);
    await cli('domains', 'delete', '银行.example');
  });

  test('verify says what is missing and which look-ups failed', async () => {
    const records = await cli('domains', 'records', 'statements.bank.example');
    const dkim = records.find((l) => l.startsWith('st1._domainkey'))!;
    txt.set('st1._domainkey.statements.bank.example', [[...dkim.split('\t; ')[0]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]!)]);
    const out = (await cli('domains', 'verify', 'statements.bank.example')).join('\n');
    assert.match(out, /^ok {12}dkim/m);
    assert.match(out, /^missing {7}dmarc/m);
    assert.match(out, /^lookup_failed return_path_mx/m);
    assert.match(out, /ECONNREFUSED/);
    assert.match(out, /statements\.bank\.example: NOT verified: 2 required record\(s\) missing or wrong/);
    const json = JSON.parse((await cli('domains', 'verify', 'statements.bank.example', '--json'))[0]!);
    assert.equal(json.status, 'failed');
  });

  test('rotate-dkim prints the new record; list shows the domain', async () => {
    const out = await cli('domains', 'rotate-dkim', 'statements.bank.example', '--selector', 'st2');
    assert.match(out[0]!, /selector st2 signs from now on; keep the record of st1 published/);
    assert.match(out[1]!, /^st2\._domainkey\.statements\.bank\.example\.\t3600\tIN\tTXT\t/);
    const listed = (await cli('domains', 'list', '--tenant', 'Card Centre', '--json')).map((l) => JSON.parse(l));
    assert.deepEqual(listed.map((d) => [d.domain, d.dkimSelector]), [['statements.bank.example', 'st2']]);
    const prepared = await cli('domains', 'rotate-dkim', 'statements.bank.example', '--selector', 'st3', '--prepare');
    assert.match(prepared[0]!, /selector st3 prepared; publish this record.*st2 signs until then/);
    assert.match(prepared[1]!, /^st3\._domainkey\.statements\.bank\.example\.\t3600\tIN\tTXT\t/);
    assert.ok((await cli('domains', 'records', 'statements.bank.example')).some((l) => l.startsWith('st3._domainkey.') && l.includes('; dkim_next (recommended)')));
    assert.match((await cli('domains', 'activate-dkim', 'statements.bank.example'))[0]!, /selector st3 signs from now on; verify again/);
    assert.match((await cli('domains', 'require-verification', 'statements.bank.example', 'on'))[0]!, /mail is held until verification passes/);
    await assert.rejects(cli('domains', 'require-verification', 'statements.bank.example', 'maybe'), /expected on or off/);
    assert.deepEqual(await cli('domains', 'delete', 'statements.bank.example'), ['statements.bank.example deleted']);
  });
});

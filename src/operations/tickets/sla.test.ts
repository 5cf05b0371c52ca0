import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testConfig } from '../../testing/http.ts';
import { describeEachEngine } from '../../testing/stores.ts';
import type { OpsDeps } from '../context.ts';
import { TEST_ACTOR } from '../../testing/operations.ts';
import { SlaCalendar } from './calendar.ts';
import { sweepEscalations } from './escalation.ts';
import { ticketEventsAfter } from './events.ts';
import { changeStatus, createTicket, viewTicket } from './service.ts';
import { makeSender } from '../../testing/senders.ts';
import { createWebhook } from '../../webhooks/service.ts';
import { NetworkPolicy } from '../../webhooks/index.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2026-11-02T01:00:00Z'); // a Monday, 09:00 in Asia/Shanghai

/** A clock the test moves by hand. */
function clock(start: number) {
  let now = start;
  return { now: () => now, set: (t: number) => { now = t; }, advance: (ms: number) => { now += ms; } };
}

describeEachEngine('fault tickets: SLA clocks, pauses, escalations and breaches', (get) => {
  const depsWith = (c: { now: () => number }, overrides: Record<string, unknown> = {}): OpsDeps => {
    const { store, dataDir, databaseUrl } = get();
    return { store, config: testConfig(dataDir, { databaseUrl, timezone: 'Asia/Shanghai', ...overrides }), now: c.now, nodeId: 'test' };
  };

  test('every level: response due in 15 min, resolution in 24 h / 48 h / 5 d / 7 d (7×24)', async () => {
    const c = clock(T0);
    const deps = depsWith(c);
    const expected = { P1: 24 * HOUR, P2: 48 * HOUR, P3: 5 * 24 * HOUR, P4: 7 * 24 * HOUR };
    for (const [priority, ms] of Object.entries(expected)) {
      const t = await createTicket(deps, TEST_ACTOR, { priority, title: `${priority} fault` });
      assert.equal(t.status, 'open');
      assert.equal(t.responseDueAt, new Date(T0 + 15 * MIN).toISOString(), priority);
      assert.equal(t.resolutionDueAt, new Date(T0 + ms).toISOString(), priority);
      assert.equal(t.sla.resolution.targetMinutes, ms / MIN);
    }
  });

  test('waiting for the customer pauses the resolution clock; the timeline gives elapsed and paused time', async () => {
    const c = clock(T0);
    const deps = depsWith(c);
    const t = await createTicket(deps, TEST_ACTOR, { priority: 'P2', title: 'Outlook refuses mail' });
    c.advance(10 * MIN);
    await changeStatus(deps, TEST_ACTOR, t.id, 'acknowledged', 'on it');
    c.advance(50 * MIN);
    await changeStatus(deps, TEST_ACTOR, t.id, 'waiting_customer', 'asked for the bounce');
    c.advance(3 * HOUR);
    let v = await viewTicket(deps, t.id);
    assert.equal(v.sla.resolution.state, 'paused');
    assert.equal(v.sla.resolution.elapsedMinutes, 60);
    assert.equal(v.sla.resolution.pausedMinutes, 180);
    assert.equal(v.resolutionDueAt, new Date(c.now() + 47 * HOUR).toISOString(), 'the due time moves while paused');
    assert.equal(v.sla.response.metAt, new Date(T0 + 10 * MIN).toISOString());
    assert.equal(v.sla.response.breached, false);
    await changeStatus(deps, TEST_ACTOR, t.id, 'in_progress');
    c.advance(2 * HOUR);
    await changeStatus(deps, TEST_ACTOR, t.id, 'resolved', 'route changed');
    c.advance(24 * HOUR);
    v = await viewTicket(deps, t.id);
    assert.equal(v.sla.resolution.state, 'stopped');
    assert.equal(v.sla.resolution.elapsedMinutes, 180);
    assert.equal(v.sla.resolution.pausedMinutes, 180);
    assert.equal(v.resolutionDueAt, new Date(T0 + 48 * HOUR + 3 * HOUR).toISOString(), 'due = creation + 48 h + the 3 h paused');
    assert.equal(v.resolutionBreached, false);
    assert.deepEqual(v.timeline!.map((e) => e.toStatus), ['open', 'acknowledged', 'waiting_customer', 'in_progress', 'resolved']);
    // Reopened: the clock runs again from where it stopped.
    await changeStatus(deps, TEST_ACTOR, t.id, 'open', 'it came back');
    c.advance(HOUR);
    v = await viewTicket(deps, t.id);
    assert.equal(v.sla.resolution.state, 'running');
    assert.equal(v.sla.resolution.elapsedMinutes, 240);
    await assert.rejects(changeStatus(deps, TEST_ACTOR, t.id, 'closed'), /cannot become closed/);
  });

  test('escalations at 50, 80 and 100 % of each target, once each; breach flags and ticket.* events', async () => {
    const c = clock(T0);
    const deps = depsWith(c, { operations: { tickets: { escalationContacts: { '*': ['oncall@bank.test'] } } } });
    const t = await createTicket(deps, TEST_ACTOR, { priority: 'P1', title: 'Database down' });
    const cursor = (await ticketEventsAfter(deps.store.db, 0, 1000)).at(-1)!.id;
    c.advance(7 * MIN);
    assert.deepEqual((await sweepEscalations(deps)).filter((e) => e.ticketId === t.id), []);
    c.advance(MIN); // 8 of 15 minutes: past 50 % of the response time
    let done = await sweepEscalations(deps);
    const first = done.filter((e) => e.ticketId === t.id);
    assert.deepEqual(first.map((e) => [e.target, e.percent]), [['response', 50]]);
    assert.equal(first[0]!.crossedAt, new Date(T0 + 7.5 * MIN).toISOString());
    assert.match(first[0]!.mail, /not sent: operations\.mail/);
    assert.deepEqual((await sweepEscalations(deps)).filter((e) => e.ticketId === t.id), [], 'recorded once');
    c.set(T0 + 15 * MIN);
    done = await sweepEscalations(deps);
    assert.deepEqual(done.filter((e) => e.ticketId === t.id).map((e) => [e.target, e.percent]), [['response', 80], ['response', 100]]);
    let v = await viewTicket(deps, t.id);
    assert.equal(v.responseBreached, true);
    assert.equal(v.resolutionBreached, false);
    await changeStatus(deps, TEST_ACTOR, t.id, 'acknowledged');
    c.set(T0 + 12 * HOUR);
    done = await sweepEscalations(deps);
    assert.deepEqual(done.filter((e) => e.ticketId === t.id).map((e) => [e.target, e.percent]), [['resolution', 50]]);
    c.set(T0 + 24 * HOUR);
    done = await sweepEscalations(deps);
    assert.deepEqual(done.filter((e) => e.ticketId === t.id).map((e) => [e.target, e.percent]), [['resolution', 80], ['resolution', 100]]);
    v = await viewTicket(deps, t.id);
    assert.equal(v.resolutionBreached, true);
    const types = (await ticketEventsAfter(deps.store.db, cursor, 1000, { ticketId: t.id })).map((e) => e.type);
    assert.deepEqual(types, ['ticket.escalated', 'ticket.escalated', 'ticket.escalated', 'ticket.breached', 'ticket.acknowledged', 'ticket.escalated', 'ticket.escalated', 'ticket.escalated', 'ticket.breached']);
  });

  test('a business-hours calendar counts working time only; the fault report is due 3 working days after resolution', async () => {
    const c = clock(Date.parse('2026-11-06T09:00:00Z')); // Friday 17:00 in Shanghai
    const deps = depsWith(c, { operations: { tickets: { calendar: 'business', holidays: ['2026-11-09'] } } });
    const t = await createTicket(deps, TEST_ACTOR, { priority: 'P1', title: 'After hours' });
    // 1 working hour left on Friday, Monday is a holiday: the remaining 23 h run Tue 09–18, Wed 09–18, Thu 09–14.
    assert.equal(t.responseDueAt, '2026-11-06T09:15:00.000Z');
    assert.equal(t.resolutionDueAt, '2026-11-12T06:00:00.000Z');
    c.set(Date.parse('2026-11-06T09:30:00Z'));
    await changeStatus(deps, TEST_ACTOR, t.id, 'resolved');
    const v = await viewTicket(deps, t.id);
    // Resolved on Friday: Tuesday, Wednesday, Thursday (Monday is a holiday) → end of Thursday.
    assert.equal(v.faultReport.dueAt, '2026-11-12T16:00:00.000Z');
    assert.equal(v.faultReport.overdue, false);
    c.set(Date.parse('2026-11-13T01:00:00Z'));
    assert.equal((await viewTicket(deps, t.id)).faultReport.overdue, true);
  });

  test("a tenant's ticket events reach that tenant's webhook outbox in the ticket's transaction; platform tickets and other tenants' endpoints get none", async () => {
    const c = clock(T0);
    const deps = depsWith(c);
    const { store } = get();
    const bank = await makeSender(store, { name: 'ticket-hooks', domain: 'tickets.bank.test' });
    const other = await makeSender(store, { name: 'ticket-hooks-other', domain: 'tickets-other.bank.test' });
    const policy = new NetworkPolicy(['127.0.0.0/8']);
    const hook = await createWebhook(store, TEST_ACTOR, policy, { tenantId: bank.tenantId, url: 'http://127.0.0.1:9/tickets', events: ['ticket.created', 'ticket.acknowledged', 'ticket.resolved'] });
    const otherHook = await createWebhook(store, TEST_ACTOR, policy, { tenantId: other.tenantId, url: 'http://127.0.0.1:9/other', events: ['ticket.created'] });
    const t = await createTicket(deps, TEST_ACTOR, { priority: 'P2', title: 'Statements deferred by one provider', tenantId: bank.tenantId });
    c.advance(5 * MIN);
    await changeStatus(deps, TEST_ACTOR, t.id, 'acknowledged', 'looking');
    await changeStatus(deps, TEST_ACTOR, t.id, 'in_progress');
    await changeStatus(deps, TEST_ACTOR, t.id, 'resolved', 'fixed');
    await createTicket(deps, TEST_ACTOR, { priority: 'P3', title: 'A platform ticket with no tenant' });
    const events = await store.db.selectFrom('webhook_events').selectAll().where('tenant_id', 'in', [bank.tenantId, other.tenantId]).orderBy('id').execute();
    // Only the subscribed types, only for the ticket's tenant; status_changed (in progress) was not subscribed.
    assert.deepEqual(events.map((e) => [e.tenant_id, e.type]), [[bank.tenantId, 'ticket.created'], [bank.tenantId, 'ticket.acknowledged'], [bank.tenantId, 'ticket.resolved']]);
    const body = JSON.parse(events[0]!.payload) as { type: string; timestamp: string; data: { ticketId: string } };
    assert.equal(body.type, 'ticket.created');
    assert.equal(body.data.ticketId, t.id);
    assert.equal(body.timestamp, new Date(T0).toISOString());
    const deliveries = await store.db.selectFrom('webhook_deliveries').select(['endpoint_id']).where('event_id', 'in', events.map((e) => e.id)).execute();
    assert.ok(deliveries.length === 3 && deliveries.every((d) => d.endpoint_id === hook.id), 'one delivery per event, to the subscribed endpoint only');
    assert.ok(!deliveries.some((d) => d.endpoint_id === otherHook.id));
  });
});

test('calendar arithmetic: counted time and its inverse agree', () => {
  const cal = new SlaCalendar({ mode: 'business', timezone: 'Asia/Shanghai', workingDays: [1, 2, 3, 4, 5], start: '09:00', end: '18:00', holidays: [], workdays: ['2026-11-07'] });
  const from = Date.parse('2026-11-06T08:00:00Z'); // Friday 16:00
  for (const ms of [MIN, 2 * HOUR, 9 * HOUR, 30 * HOUR]) assert.equal(cal.countedMs(from, cal.addCounted(from, ms)), ms);
  // Saturday 2026-11-07 is a swapped workday (调休).
  assert.equal(cal.addCounted(from, 3 * HOUR), Date.parse('2026-11-07T02:00:00Z'));
});

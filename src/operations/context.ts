import type { Actor } from '../audit/index.ts';
import type { FanoutConfig } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import { SlaCalendar } from './tickets/calendar.ts';

/** What every operations service needs: the store, the configuration and a clock tests can set. */
export interface OpsDeps {
  store: Store;
  config: FanoutConfig;
  now: () => number;
  /** This node's name (FANOUT_NODE_ID, else the host name). */
  nodeId: string;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/** The actor of writes Fanout makes by itself (monitors, escalations, surveys sent). */
export const SYSTEM_ACTOR: Actor = { operator: 'system:operations', clientIp: 'local', role: 'system' };

export function opsTimezone(config: FanoutConfig): string {
  return config.operations.tickets.timezone ?? config.timezone;
}

const calendars = new WeakMap<FanoutConfig, SlaCalendar>();

/** The SLA calendar of the configuration (made once per configuration object). */
export function slaCalendar(config: FanoutConfig): SlaCalendar {
  let cal = calendars.get(config);
  if (!cal) {
    const t = config.operations.tickets;
    cal = new SlaCalendar({ mode: t.calendar, timezone: opsTimezone(config), workingDays: t.workingDays, start: t.workingHours.start, end: t.workingHours.end, holidays: t.holidays, workdays: t.workdays });
    calendars.set(config, cal);
  }
  return cal;
}

/** The working-days calendar of the fault report deadline: business days whatever the SLA mode. */
export function workingDaysCalendar(config: FanoutConfig): SlaCalendar {
  const t = config.operations.tickets;
  return new SlaCalendar({ mode: 'business', timezone: opsTimezone(config), workingDays: t.workingDays, start: '00:00', end: '24:00', holidays: t.holidays, workdays: t.workdays });
}

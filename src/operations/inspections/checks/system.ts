import fs from 'node:fs';
import path from 'node:path';
import si from 'systeminformation';
import type { CheckDefinition, CheckResult } from '../types.ts';
import { grade, result } from '../types.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** CPU use over a short sample (the first reading of systeminformation is since boot). */
const cpu: CheckDefinition = {
  key: 'cpu', light: true,
  async run({ deps }) {
    const t = deps.config.operations.thresholds;
    await si.currentLoad();
    await pause(500);
    const load = round((await si.currentLoad()).currentLoad);
    const cores = (await si.cpu()).cores;
    return result('cpu', 'hardware', grade(load, t.cpuWarnPercent, t.cpuErrorPercent), `CPU ${load}% in use on ${cores} cores`, load, { warnPercent: t.cpuWarnPercent, errorPercent: t.cpuErrorPercent });
  },
};

const memory: CheckDefinition = {
  key: 'memory', light: true,
  async run({ deps }) {
    const t = deps.config.operations.thresholds;
    const m = await si.mem();
    // "active" excludes page cache and buffers, which the kernel gives back on demand.
    const used = round((m.active / m.total) * 100);
    return result('memory', 'hardware', grade(used, t.memoryWarnPercent, t.memoryErrorPercent),
      `memory ${used}% in use (${round(m.active / 2 ** 30)} of ${round(m.total / 2 ** 30)} GiB)`, used,
      { warnPercent: t.memoryWarnPercent, errorPercent: t.memoryErrorPercent }, { value: { percent: used, usedBytes: m.active, totalBytes: m.total }, numeric: used });
  },
};

/** Honest about machines without sensors (virtual machines, most containers). */
const temperature: CheckDefinition = {
  key: 'temperature', light: false,
  async run({ deps }) {
    const t = deps.config.operations.thresholds;
    const reading = await si.cpuTemperature();
    const threshold = { warnCelsius: t.temperatureWarnCelsius, errorCelsius: t.temperatureErrorCelsius };
    if (reading.main === null || reading.main === undefined || !Number.isFinite(reading.main)) {
      return result('temperature', 'hardware', 'unavailable', 'no temperature sensor is readable on this machine (virtual machine or container)', null, threshold);
    }
    const max = reading.max && Number.isFinite(reading.max) ? Math.max(reading.max, reading.main) : reading.main;
    return result('temperature', 'hardware', grade(max, t.temperatureWarnCelsius, t.temperatureErrorCelsius), `CPU temperature ${reading.main} °C (hottest ${max} °C)`, max, threshold);
  },
};

function usage(dir: string): { percent: number; freeBytes: number; totalBytes: number } {
  const s = fs.statfsSync(dir);
  const total = s.blocks * s.bsize;
  const free = s.bavail * s.bsize;
  return { percent: round(((total - free) / total) * 100), freeBytes: free, totalBytes: total };
}

/** The data folder's file system, and the database's size on either engine. */
const disk: CheckDefinition = {
  key: 'disk', light: true,
  async run({ deps }) {
    const t = deps.config.operations.thresholds;
    const threshold = { warnPercent: t.diskWarnPercent, errorPercent: t.diskErrorPercent };
    const out: CheckResult[] = [];
    const dir = deps.config.dataDir;
    const d = usage(fs.existsSync(dir) ? dir : path.dirname(dir));
    out.push(result('disk', 'storage', grade(d.percent, t.diskWarnPercent, t.diskErrorPercent), `data folder ${dir}: ${d.percent}% used, ${round(d.freeBytes / 2 ** 30)} GiB free`, d.percent, threshold,
      { subject: 'data', value: { path: dir, ...d }, numeric: d.percent }));
    return out;
  },
};

/**
 * Traffic over a one-second sample on every external interface, judged against the link
 * speed where the interface reports one (virtual interfaces often do not).
 */
const bandwidth: CheckDefinition = {
  key: 'bandwidth', light: false,
  async run({ deps }) {
    const t = deps.config.operations.thresholds;
    const ifaces = (await si.networkInterfaces()).filter((i) => !i.internal);
    if (!ifaces.length) return result('bandwidth', 'network', 'unavailable', 'no external network interface found');
    await si.networkStats('*');
    await pause(1000);
    const stats = await si.networkStats('*');
    const out: CheckResult[] = [];
    for (const i of ifaces) {
      const s = stats.find((x) => x.iface === i.iface);
      if (!s || s.rx_sec === null || s.tx_sec === null || s.rx_sec < 0) {
        out.push(result('bandwidth', 'network', 'unavailable', `${i.iface}: no traffic counters`, null, null, { subject: i.iface }));
        continue;
      }
      const mbps = round(((Math.max(s.rx_sec, s.tx_sec) * 8) / 1e6), 3);
      const value = { rxMbps: round((s.rx_sec * 8) / 1e6, 3), txMbps: round((s.tx_sec * 8) / 1e6, 3), linkMbps: i.speed && i.speed > 0 ? i.speed : null };
      if (!value.linkMbps) {
        out.push(result('bandwidth', 'network', 'ok', `${i.iface}: ${value.rxMbps} Mbit/s in, ${value.txMbps} Mbit/s out (link speed not reported)`, value, null, { subject: i.iface, numeric: mbps }));
        continue;
      }
      const percent = round((mbps / value.linkMbps) * 100);
      out.push(result('bandwidth', 'network', grade(percent, t.bandwidthWarnPercent, t.bandwidthErrorPercent), `${i.iface}: ${value.rxMbps} Mbit/s in, ${value.txMbps} Mbit/s out of ${value.linkMbps} Mbit/s (${percent}%)`,
        { ...value, percent }, { warnPercent: t.bandwidthWarnPercent, errorPercent: t.bandwidthErrorPercent }, { subject: i.iface, numeric: percent }));
    }
    return out;
  },
};

export const systemChecks: CheckDefinition[] = [cpu, memory, temperature, disk, bandwidth];

/** OS, distribution and kernel for the report's environment section. */
export async function osDescription(): Promise<string> {
  const o = await si.osInfo();
  return `${o.distro} ${o.release} (${o.platform} ${o.kernel}, ${o.arch})`;
}

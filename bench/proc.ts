import { readFile } from 'node:fs/promises';

/** What the benchmarks read of Linux's `/proc`: CPU of the whole machine and of processes. */

/** Busy and total jiffies of the whole machine (every process, other engineers' work included). */
export const machineCpu = async (): Promise<Readonly<{ busy: number; total: number }>> => {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return { busy, total: busy + (idle ?? 0) + (iowait ?? 0) };
};

/** User + system CPU milliseconds of a process so far (0 when it is gone or unknown; 10 ms jiffies). */
export const processCpuMs = async (pid: number | undefined): Promise<number> => {
  if (pid === undefined) return 0;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 10;
};

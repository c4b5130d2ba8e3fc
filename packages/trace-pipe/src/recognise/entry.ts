/**
 * Where an ftrace entry's payload starts (after `comm-pid [cpu] flags timestamp: `), for the
 * default format, the irq-info/record-tgid column variants, trace-cmd report, counter clocks and
 * the latency format (`  <idle>-0       0d.h3    1us+: `, verbose `... 0.000ms (+0.000ms): `).
 * Returns -1 when the line has no entry prefix.
 */
const NORMAL = /^\s*\S.*?-\d+ +(?:\( *(?:\d+|-+)\) +)?\[\d+\] +(?:\S+ +)?\d+(?:\.\d+)?: /;
const LATENCY = /^\s*\S.*?-\d+ +\d+\S* +(?:\d+(?:\.\d+)?(?:us|ms|ns)[ +!#*@$>]?|.*?\(\+\d+\.\d+ms\)): /;

/**
 * The prefix is short (comm, pid, columns, timestamp); both patterns backtrack over the whole
 * text, which on a long line that has no prefix (a dump of numbers) took seconds: they only
 * ever look at its start.
 */
const PREFIX_MAX = 512;

export function payloadStart(line: string): number {
  const s = line.length > PREFIX_MAX ? line.slice(0, PREFIX_MAX) : line;
  let m = NORMAL.exec(s);
  if (m) return m[0].length;
  m = LATENCY.exec(s);
  if (m) return m[0].length;
  return -1;
}

/**
 * Where an ftrace entry's payload starts (after `comm-pid [cpu] flags timestamp: `), for the
 * default format, the irq-info/record-tgid column variants, trace-cmd report, counter clocks and
 * the latency format (`  <idle>-0       0d.h3    1us+: `, verbose `... 0.000ms (+0.000ms): `).
 * Returns -1 when the line has no entry prefix.
 */
const NORMAL = /^\s*\S.*?-\d+ +(?:\( *(?:\d+|-+)\) +)?\[\d+\] +(?:\S+ +)?\d+(?:\.\d+)?: /;
const LATENCY = /^\s*\S.*?-\d+ +\d+\S* +(?:\d+(?:\.\d+)?(?:us|ms|ns)[ +!#*@$>]?|.*?\(\+\d+\.\d+ms\)): /;

export function payloadStart(s: string): number {
  let m = NORMAL.exec(s);
  if (m) return m[0].length;
  m = LATENCY.exec(s);
  if (m) return m[0].length;
  return -1;
}

/**
 * Line prefixes of kernel logs, as a latin1 string (one char per byte, so offsets are byte
 * offsets). `messageStart` skips every prefix a kernel line may carry, in any of the forms the
 * usual readers print, and returns where the kernel's own message text begins:
 *
 *   \r and terminal escape sequences (serial consoles: SeaBIOS clears the screen mid-line)
 *   /dev/kmsg records           `6,1234,5678901,-;`  (continuation lines ` KEY=value` are not messages)
 *   syslog / journalctl short   `Mon DD hh:mm:ss host kernel: `, ISO (`short-iso`), `[  12.3] host kernel: `
 *   printk level                `<4>`
 *   dmesg -x                    `kern  :warn  : `
 *   timestamps                  `[   12.345678]`, dmesg -T `[Mon Jan  2 03:04:05 2024]`,
 *                               dmesg -d `[  1.2 <  0.1>]`, `--time-format iso` `2024-01-02T03:04:05,123456+00:00`
 *   caller ids                  `[  T123]`, `[    C1]` (printed right after the timestamp, with or without a space)
 */

// eslint-disable-next-line no-control-regex -- ESC is what a terminal escape sequence starts with
const ESCAPES = /^(?:\r|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][\x20-\x7e]|\x1b[@-Z\\-_c])+/;
const KMSG = /^\d{1,3},\d+,\d+,[^;\s]*;/;
const SYSLOG = /^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?|\[\s*\d+\.\d+\]) \S+ kernel: /;
const LEVEL = /^<\d{1,3}>/;
const FACILITY = /^(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|res0|res1|res2|res3|local[0-7]|unknown)\s*:(?:emerg|alert|crit|err|warn|notice|info|debug)\s*: ?/;
const TIMESTAMP = /^(?:\[\s*\d+\.\d+(?:\s*<\s*\d+\.\d+>)?\]|\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\]|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d+[+-]\d\d:\d\d)/;
const CALLER = /^ ?\[\s*[TC]\d+\]/;

/** Where the message begins in `s` (0 when the line has no prefix). */
export function messageStart(s: string): number {
  let p = 0;
  const eat = (re: RegExp): boolean => {
    const m = re.exec(p ? s.slice(p) : s);
    if (!m) return false;
    p += m[0].length;
    return true;
  };
  eat(ESCAPES);
  if (eat(KMSG)) return p;
  eat(SYSLOG);
  eat(LEVEL);
  eat(FACILITY);
  // one space separates a timestamp from the message (the message's own indentation follows)
  if (eat(TIMESTAMP)) {
    eat(CALLER);
    eat(ESCAPES);
    if (s.charCodeAt(p) === 32) p++;
  }
  return p;
}

/** End of the line's text: trailing \r (serial consoles) excluded. */
export function messageEnd(s: string): number {
  let e = s.length;
  while (e > 0 && s.charCodeAt(e - 1) === 13) e--;
  return e;
}

/** A /dev/kmsg continuation line (` SUBSYSTEM=pci`): dictionary data, never a message. */
export function isKmsgContinuation(s: string): boolean {
  return /^ [A-Z_]+=/.test(s);
}

/**
 * Event payloads and trace_printk text: every `%pS` reference (`name+0xOFF/0xSIZE[ [mod]][ <addr>]`
 * anywhere: `call_site=...`, `(func+0x0/0x20)`, kprobes), `%ps` values of function-valued fields
 * (`function=name`, `func=`, `callback=`, workqueue `function name`), kretprobe
 * `(ret_site+0x../0x.. <- func)`, and the ip a trace_printk line starts with (`func+0x1c/0x40: ...`,
 * or a bare `func: ...` when `func` is a function and no tracepoint of that name exists).
 */
import type { RecogniseContext } from './context.js';
import { NAME, OFFSZ, type Hit } from './hit.js';
import { nextOffsetToken } from './offset-token.js';
import { addressAt, symbolAt } from './symbol.js';

const KEYED = new RegExp(String.raw`\b(?:function|func|callback|fn|call_site|callsite|caller|ip)(?:=| (?=${NAME}(?:[\s,)]|$)))`, 'g');
const KRET = new RegExp(String.raw` <- (?=${NAME}(?: \[[\w.-]+\])?\))`, 'y');
const LEAD = new RegExp(String.raw`(${NAME})(?:${OFFSZ})?(?: \[[\w.-]+\])?: `, 'y');

/**
 * Whether the %pS token at `at` is printed where a return address goes: after `=>`, `<-`,
 * `ret_site=` or an opening `(` (spaces between allowed), except the `(` of a kprobe event
 * (`NAME: (probe+0x4/0x370)` at the payload's start, seg: where the payload starts), whose
 * address is the probe point. A kretprobe's `(ret_site <- func)` is said by the caller.
 */
function afterReturnMark(s: string, at: number, seg: number): boolean {
  let i = at;
  while (i > seg && /\s/.test(s[i - 1]!)) i--;
  const c = s.charCodeAt(i - 1);
  if (c === 40 /* ( */) {
    // a kprobe: the payload is `NAME: (` and this token follows it
    let k = seg;
    while (k < i && /[\w.-]/.test(s[k]!)) k++;
    return !(k > seg && s.startsWith(': (', k) && k + 3 === i);
  }
  if ((c === 62 && s.charCodeAt(i - 2) === 61) || (c === 45 && s.charCodeAt(i - 2) === 60)) return true; // => <-
  const w = s.endsWith('ret_site=', i) ? i - 9 : s.endsWith('ret_site', i) ? i - 8 : -1;
  return w >= 0 && !(w > 0 && /\w/.test(s[w - 1]!)); // \bret_site
}

/** Scan s[from, to) for references; `lead` = the segment starts an entry payload (trace_printk ip). */
export function scanPayload(s: string, from: number, to: number, ctx: RecogniseContext, lead: boolean): Hit[] {
  const hits: Hit[] = [];
  let scanFrom = from;
  if (lead) {
    LEAD.lastIndex = from;
    const m = LEAD.exec(s);
    if (m && (m[2] !== undefined || (!ctx.isTracepoint(m[1]!) && ctx.hasSymbol(m[1]!) && !ctx.isModule(m[1]!)))) {
      const h = symbolAt(s, from, ctx, { module: true, angleAddr: true });
      if (h) { hits.push(h); scanFrom = h.end; }
    }
  }
  // %pS tokens anywhere
  let pos = scanFrom;
  for (let t = nextOffsetToken(s, pos, to); t; t = nextOffsetToken(s, pos, to)) {
    pos = t.end;
    const h = symbolAt(s, t.start, ctx, { module: true, angleAddr: true });
    if (!h) continue;
    hits.push(h);
    pos = h.end;
    h.returnAddress = afterReturnMark(s, h.start, from);
    // kretprobe: (ret_site+0x../0x.. <- func)
    if (s.charCodeAt(h.end - 1) !== 41) {
      KRET.lastIndex = h.end;
      if (KRET.exec(s)) {
        h.returnAddress = true; // the return site
        const f = symbolAt(s, KRET.lastIndex, ctx, { module: true });
        if (f && f.offset === null) {
          f.evidenceFrom = hits.length - 1; f.evidenceLabel = 'return-site-module';
          hits.push(f);
          pos = f.end;
        }
      }
    }
  }
  // %ps values of function-valued fields
  KEYED.lastIndex = scanFrom;
  const taken = new Set(hits.map((h) => h.start)); // a set: lines with thousands of fields
  for (let m = KEYED.exec(s); m && m.index < to; m = KEYED.exec(s)) {
    const pos = m.index + m[0].length;
    if (pos >= to) break;
    if (taken.has(pos)) continue;
    const h = symbolAt(s, pos, ctx, { module: true, angleAddr: true }) ?? addressAt(s, pos);
    if (!h || h.end > to) continue;
    const c = s.charCodeAt(h.end);
    if (h.end < to && !(c === 32 || c === 44 || c === 41 || c === 9 || c === 13 || c === 93 || c === 59)) continue;
    hits.push(h);
    taken.add(h.start);
  }
  if (hits.length > 1) {
    const order = hits.map((h, i) => i).sort((a, b) => hits[a]!.start - hits[b]!.start);
    if (order.some((v, i) => v !== i)) {
      const remap = new Map(order.map((old, i) => [old, i]));
      const sorted = order.map((i) => hits[i]!);
      for (const h of sorted) if (h.evidenceFrom !== undefined) h.evidenceFrom = remap.get(h.evidenceFrom)!;
      return sorted;
    }
  }
  return hits;
}

/**
 * perf script text made from the real stack traces the 6.12 kernel's ftrace printed
 * (fixtures/kernel-6.12/boot-kaslr/trace-events-stacktrace-symoffset.txt: `=> name+off/size [mod] <addr>`):
 * no perf capture of that kernel exists (its build tree stayed on the build machine), and this
 * machine's kernel has no modules. Each `<stack trace>` becomes one sample, each frame a perf
 * callchain line with the address, name and offset ftrace printed, and the dso perf prints for
 * it (`[kernel.kallsyms]`, `[null_blk]` for a loadable module); comm, pid, cpu and time come from
 * the trace line. Only the layout is perf's: every address and name is the kernel's own.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { k } from './kernel-fixture.js';

export function perfTextFrom612Stacktraces(): { text: string; samples: number; frames: number } {
  const lines = readFileSync(k('boot-kaslr/trace-events-stacktrace-symoffset.txt'), 'utf8').split('\n');
  const out: string[] = [];
  let samples = 0, frames = 0, open = false;
  for (const l of lines) {
    const head = /^\s*(\S+)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): <stack trace>$/.exec(l);
    if (head) {
      if (open) out.push('');
      out.push(`${head[1]!} ${head[2]!.padStart(6)} [${head[3]}] ${head[4]!.padStart(12)}:          1 stacktrace: `);
      samples++; open = true;
      continue;
    }
    const f = /^ => ([\w.]+)\+(0x[0-9a-f]+)\/0x[0-9a-f]+(?: \[(\w+)\])? <([0-9a-f]{16})>$/.exec(l);
    if (f && open) {
      out.push(`\t${f[4]} ${f[1]}+${f[2]} (${f[3] ? `[${f[3]}]` : '[kernel.kallsyms]'})`);
      frames++;
      continue;
    }
    if (open && !l.startsWith(' =>')) { out.push(''); open = false; }
  }
  if (open) out.push('');
  return { text: out.join('\n') + '\n', samples, frames };
}

/**
 * The same from the oopses and backtraces in that boot's dmesg (fixtures/kernel-6.12/boot-kaslr/dmesg.txt:
 * lkdtm, sysrq, NMI backtraces, so built-in modules too): the kernel printed `name+off/size` without
 * addresses there, so each frame's address is its symbol's in that boot's kallsyms plus the printed
 * offset (names kallsyms has more than once, and `?` frames, are left out). Comm and pid from the
 * oops's `CPU: N UID: 0 PID: P Comm: C` line.
 */
export function perfTextFrom612Dmesg(): { text: string; samples: number; frames: number } {
  const ks = spawnSync('xz', ['-dc', k('boot-kaslr/kallsyms.xz')], { maxBuffer: 1 << 28, encoding: 'latin1' }).stdout;
  const addr = new Map<string, { a: bigint; mod: string | null } | null>();
  for (const l of ks.split('\n')) {
    const m = /^([0-9a-f]{16}) [tTwW] (\S+)(?:\t\[(\w+)\])?$/.exec(l);
    if (!m) continue;
    addr.set(m[2]!, addr.has(m[2]!) ? null : { a: BigInt('0x' + m[1]), mod: m[3] ?? null });
  }
  const out: string[] = [];
  let samples = 0, frames = 0, inTrace = false, comm = 'swapper', pid = '0', cpu = '0';
  const close = () => { if (inTrace) out.push(''); inTrace = false; };
  for (const l of readFileSync(k('boot-kaslr/dmesg.txt'), 'utf8').split('\n')) {
    const who = /CPU: (\d+) UID: \d+ PID: (\d+) Comm: (\S+)/.exec(l);
    if (who) { cpu = who[1]!; pid = who[2]!; comm = who[3]!; continue; }
    const ct = /^\[\s*([\d.]+)\] Call Trace:$/.exec(l);
    if (ct) {
      close();
      const time = ct[1]!;
      out.push(`${comm} ${pid.padStart(6)} [${cpu.padStart(3, '0')}] ${time.padStart(12)}:          1 oops: `);
      samples++; inTrace = true;
      continue;
    }
    if (!inTrace) continue;
    if (/\] +<\/?(TASK|IRQ|NMI|SOFTIRQ)>$/.test(l)) continue;
    const f = /^\[\s*[\d.]+\]  (\? )?([\w.]+)\+(0x[0-9a-f]+)\/0x[0-9a-f]+(?: \[(\w+)\])?$/.exec(l);
    if (!f) { if (!/^\[\s*[\d.]+\] (RIP|Code|RSP|R[A-Z0-9]+):|^\[\s*[\d.]+\]  ?[A-Z0-9]{2,3}: /.test(l)) close(); continue; }
    if (f[1]) continue;
    const s = addr.get(f[2]!);
    if (!s) continue;
    const a = (s.a + BigInt(f[3]!)).toString(16);
    out.push(`\t${a} ${f[2]}+${f[3]} (${s.mod ? `[${s.mod}]` : '[kernel.kallsyms]'})`);
    frames++;
  }
  close();
  return { text: out.join('\n') + '\n', samples, frames };
}

/**
 * perf text of the 6.12 call chains above moved onto another kernel (the Debian 6.12 distro
 * kernel, whose debug vmlinux has DWARF: no perf text of it exists): each core-kernel frame
 * `name+0xOFF` is placed at that kernel's symbol of the same name (its only text symbol of that
 * name), at OFF when the function is that long, else at OFF modulo its length (the distance to
 * the next symbol); module frames and names that kernel lacks or has twice are left out. Real:
 * the chains (which function called which, in a real 6.12 kernel), the target's symbols and
 * addresses; not real: the offsets, which come from another build of the same functions.
 */
export function perfTextOnKernel(text: string, kallsyms: string): { text: string; frames: number } {
  const sym = new Map<string, { a: bigint; size: bigint } | null>();
  const ls = kallsyms.split('\n');
  for (let n = 0; n < ls.length; n++) {
    const m = /^([0-9a-f]{16}) [tT] (\S+)$/.exec(ls[n]!);
    if (!m) continue;
    const a = BigInt('0x' + m[1]), next = /^([0-9a-f]{16}) /.exec(ls[n + 1] ?? '');
    sym.set(m[2]!, sym.has(m[2]!) ? null : { a, size: next ? BigInt('0x' + next[1]) - a : 1n });
  }
  let frames = 0;
  const out = text.split('\n').flatMap((l) => {
    const f = /^\t[0-9a-f]{16} ([\w.]+)\+(0x[0-9a-f]+) \(\[kernel\.kallsyms\]\)$/.exec(l);
    if (!f) return l.startsWith('\t') ? [] : [l];
    const s = sym.get(f[1]!);
    if (!s || s.size <= 0n) return [];
    let off = BigInt(f[2]!);
    if (off >= s.size) off %= s.size;
    frames++;
    return [`\t${(s.a + off).toString(16)} ${f[1]}+0x${off.toString(16)} ([kernel.kallsyms])`];
  });
  return { text: out.join('\n'), frames };
}

/**
 * The samples of perf script text as `perf data convert --to-json` writes them (its layout:
 * tabs, one field per line; callchain entries `ip`, `symbol`, `dso`; perf prints no offset).
 */
export function perfJsonFromText(text: string): string {
  const samples: string[] = [];
  let head: RegExpExecArray | null = null, chain: string[] = [];
  const flush = () => {
    if (!head) return;
    const [, comm, pid, cpu, time] = head;
    samples.push(`\t\t{\n\t\t\t"timestamp": ${Math.round(Number(time) * 1e9)},\n\t\t\t"pid": ${pid},\n\t\t\t"tid": ${pid},\n\t\t\t"cpu": ${Number(cpu)},\n`
      + `\t\t\t"comm": "${comm}",\n\t\t\t"callchain": [\n${chain.join(',\n')}\n\t\t\t]\n\t\t}`);
    head = null; chain = [];
  };
  for (const l of text.split('\n')) {
    const h = /^(\S+)\s+(\d+)\s+\[(\d+)\]\s+([\d.]+):/.exec(l);
    if (h) { flush(); head = h; continue; }
    const f = /^\t([0-9a-f]{16}) ([\w.]+)\+0x[0-9a-f]+ \((\S+)\)$/.exec(l);
    if (f && head) chain.push(`\t\t\t\t{\n\t\t\t\t\t"ip": "0x${f[1]}",\n\t\t\t\t\t"symbol": "${f[2]}",\n\t\t\t\t\t"dso": "${f[3]}"\n\t\t\t\t}`);
  }
  flush();
  return `{\n\t"linux-perf-json-version": 1,\n\t"samples": [\n${samples.join(',\n')}\n\t]\n}\n`;
}

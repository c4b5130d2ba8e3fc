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

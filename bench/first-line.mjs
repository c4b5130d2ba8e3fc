/** Timing helpers shared by the bench scripts. */
import { spawn } from 'node:child_process';

/** Seconds from spawn to the first byte of output, for one line on stdin. */
export function firstLine(cmd, args, line) {
  return new Promise((res, rej) => {
    const t = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let done = false, err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.once('data', () => { done = true; res(Number(process.hrtime.bigint() - t) / 1e9); child.stdout.resume(); });
    child.on('close', (code) => { if (!done) rej(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err.trim().split('\n').pop()}`)); });
    child.stdin.end(line + '\n');
  });
}

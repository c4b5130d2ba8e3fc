/** Timing helpers shared by the bench scripts. */
import { spawn, spawnSync } from 'node:child_process';

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

/** Wall seconds of one `bash -c cmd` (stdout discarded); a failure throws. */
export function timeCommand(cmd, env = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', cmd], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`failed: ${cmd}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** The upper median (the middle of an odd count). */
export const upperMedian = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

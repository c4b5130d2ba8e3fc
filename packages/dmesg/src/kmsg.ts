/**
 * `--follow`: read /dev/kmsg directly. Each read() returns one record
 * (`pri,seq,usec,flags[,caller=..];message\n`, then ` KEY=value\n` dictionary lines); the
 * records pass through as the kernel wrote them, so the output is byte for byte what
 * `cat /dev/kmsg` shows, annotated. EPIPE means records were overwritten before we read them:
 * reading simply goes on with the next one (as dmesg does).
 */
import { open, read, close } from 'node:fs';
import { Readable } from 'node:stream';

export const KMSG_PATH = '/dev/kmsg';

export function kmsgStream(path = KMSG_PATH): Promise<Readable> {
  return new Promise((resolve, reject) => {
    open(path, 'r', (err, fd) => {
      if (err) { reject(err); return; }
      const buf = Buffer.allocUnsafe(1 << 16);
      let closed = false;
      const stream = new Readable({
        read() {
          read(fd, buf, 0, buf.length, null, (e, n) => {
            if (closed) return;
            if (e) {
              if (e.code === 'EPIPE' || e.code === 'EAGAIN' || e.code === 'EINTR') { this._read(0); return; }
              this.destroy(e);
              return;
            }
            if (n === 0) { this.push(null); return; }
            this.push(Buffer.from(buf.subarray(0, n)));
          });
        },
        destroy(e, cb) { closed = true; close(fd, () => cb(e)); },
      });
      resolve(stream);
    });
  });
}

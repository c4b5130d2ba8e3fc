/** Compile-unit name → object path ("fs/ext4/inode.c" → "fs/ext4/inode.o"). */

/**
 * "fs/ext4/inode.c" → "fs/ext4/inode.o". An absolute name under `compDir` is made relative to
 * it. An absolute name outside an absolute `compDir` (out-of-tree `O=` builds: assembler CUs are
 * named by their absolute source path, comp_dir is the object tree below the source tree) is
 * made relative to the deepest common ancestor directory, when that has at least two path
 * components (never just "/" or "/build"). Leading "./" is removed; the source suffix (last
 * ".ext" of the basename) becomes ".o" (a name without one gets ".o" appended).
 * Returns null for "".
 */
export function cuToObject(cu: string, compDir?: string | null): string | null {
  let p = cu;
  if (p === '') return null;
  if (compDir && p.startsWith('/') && compDir.startsWith('/')) {
    const dir = compDir.endsWith('/') ? compDir : compDir + '/';
    if (p.startsWith(dir)) p = p.slice(dir.length);
    else {
      const a = p.split('/'), b = dir.split('/');
      let n = 0;
      while (n < a.length - 1 && n < b.length && a[n] === b[n]) n++;
      // a[0] === '' (leading slash): n - 1 real components in common
      if (n - 1 >= 2) p = a.slice(n).join('/');
    }
  }
  while (p.startsWith('./')) p = p.slice(2);
  if (p === '') return null;
  const slash = p.lastIndexOf('/');
  const dot = p.lastIndexOf('.');
  if (dot > slash + 1) p = p.slice(0, dot);
  return p + '.o';
}

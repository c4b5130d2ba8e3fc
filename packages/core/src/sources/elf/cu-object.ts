/** Compile-unit name → object path ("fs/ext4/inode.c" → "fs/ext4/inode.o"). */

/**
 * "fs/ext4/inode.c" → "fs/ext4/inode.o". An absolute name under `compDir` is made relative to
 * it; leading "./" is removed; the source suffix (last ".ext" of the basename) becomes ".o"
 * (a name without one gets ".o" appended). Returns null for "".
 */
export function cuToObject(cu: string, compDir?: string | null): string | null {
  let p = cu;
  if (p === '') return null;
  if (compDir && p.startsWith('/')) {
    const dir = compDir.endsWith('/') ? compDir : compDir + '/';
    if (p.startsWith(dir)) p = p.slice(dir.length);
  }
  while (p.startsWith('./')) p = p.slice(2);
  if (p === '') return null;
  const slash = p.lastIndexOf('/');
  const dot = p.lastIndexOf('.');
  if (dot > slash + 1) p = p.slice(0, dot);
  return p + '.o';
}

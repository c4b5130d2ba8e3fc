/**
 * `kallmod resolve` queries: the notation kallmod prints, read back.
 *   name   name [mod]   name [m1] [m2] {obj.o}   name {path/obj.o}   name+0xoff   name+0xoff/0xsize
 * Parts left out are not constraints. `*` and `?` are globs in the name and the modules.
 */
import { KallmodError } from '../errors.js';
import { parseTriplet } from '../notation.js';

export interface ResolveQuery {
  /** The query as given (trimmed). */
  text: string;
  name: string;
  /** Set when the name has glob characters. */
  nameGlob: RegExp | null;
  offset: number | null;
  /** Kallsyms size (`name+0xOFF/0xSIZE`, as kernel logs print): selects among same-named symbols; null: any. */
  size: number | null;
  /** Every listed module must be one of the symbol's modules (globs allowed); null: any. */
  modules: string[] | null;
  /** Path suffix of the object file, whole components (`super.o`, `ext4/super.o`); null: any. */
  objname: string | null;
}

const GLOB = /[*?]/;

export function isGlob(s: string): boolean { return GLOB.test(s); }

/** `*` any run, `?` one character; everything else literal; anchored. */
export function globToRegExp(g: string): RegExp {
  let src = '';
  for (const ch of g) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${src}$`);
}

/** Parse one query; a malformed one is a KallmodError (exit 2). */
export function parseResolveQuery(text: string): ResolveQuery {
  const s = text.trim();
  const t = s ? parseTriplet(s) : null;
  if (!t || !t.name || /[[\]{}]/.test(t.name)) {
    throw new KallmodError(`cannot parse query '${s}': expected name[+0xOFF] [mod]... {obj.o}`, { exitCode: 2 });
  }
  if (t.size !== null && !(t.size > 0)) throw new KallmodError(`bad size in query '${s}'`, { exitCode: 2 });
  if (t.offset !== null && !Number.isFinite(t.offset)) throw new KallmodError(`bad offset in query '${s}'`, { exitCode: 2 });
  let objname = t.objname;
  if (objname !== null) {
    objname = objname.replace(/^\.\//, '');
    if (!objname || objname.endsWith('/')) throw new KallmodError(`bad objname in query '${s}'`, { exitCode: 2 });
  }
  return {
    text: s, name: t.name, nameGlob: isGlob(t.name) ? globToRegExp(t.name) : null,
    offset: t.offset, size: t.size, modules: t.modules, objname,
  };
}

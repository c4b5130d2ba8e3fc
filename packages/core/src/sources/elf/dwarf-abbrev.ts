/**
 * A unit's whole abbreviation table, parsed once, for walks over every DIE of a unit (source
 * lines); dwarf-units.ts reads only the top DIE's declaration.
 */
import { Cursor, DW_AT, DW_FORM, DwarfError, DwarfOutOfBounds } from './dwarf-reader.js';

export interface AbbrevDecl {
  tag: number;
  hasChildren: boolean;
  attrs: number[];
  forms: number[];
  consts: number[];
  /** position of DW_AT_sibling in attrs, -1 when the DIE has none */
  sibling: number;
}

/** code → declaration (codes are dense from 1 in what compilers emit; a Map for the others) */
export class AbbrevTable {
  private readonly dense: (AbbrevDecl | undefined)[] = [];
  private readonly sparse = new Map<number, AbbrevDecl>();

  get(code: number): AbbrevDecl {
    const d = code < 4096 ? this.dense[code] : this.sparse.get(code);
    if (!d) throw new DwarfError(`abbrev code ${code} not in its table`);
    return d;
  }

  set(code: number, d: AbbrevDecl): void {
    if (code < 4096) this.dense[code] = d;
    else this.sparse.set(code, d);
  }
}

/** The table at `off` of .debug_abbrev (kept by its unit's cache entry: a kernel's units have one each). */
export function abbrevTable(abbrev: Buffer, off: number): AbbrevTable {
  const t = new AbbrevTable();
  const c = new Cursor(abbrev, off);
  try {
    for (;;) {
      const code = c.uleb();
      if (code === 0) break;
      const tag = c.uleb();
      const hasChildren = c.u8() !== 0;
      const d: AbbrevDecl = { tag, hasChildren, attrs: [], forms: [], consts: [], sibling: -1 };
      for (;;) {
        const at = c.uleb(), form = c.uleb();
        if (at === 0 && form === 0) break;
        if (at === DW_AT.sibling) d.sibling = d.attrs.length;
        d.attrs.push(at);
        d.forms.push(form);
        d.consts.push(form === DW_FORM.implicit_const ? c.sleb() : 0);
      }
      t.set(code, d);
    }
  } catch (e) {
    if (e instanceof DwarfOutOfBounds) throw new DwarfError('.debug_abbrev truncated');
    throw e;
  }
  return t;
}

/**
 * The shapes everything else speaks. Field names are the JSON contract of `kallmod lookup
 * --json` and of every transformer's `--refs` (README, "Structured output").
 */

/** One symbol as JSON (lookup answers, candidates). Addresses are "0x..." hex strings. */
export interface SymbolJson {
  /** Null when the sources hide addresses (kptr_restrict): a hidden address is never printed. */
  address: string | null;
  name: string;
  /** Exact size when a source knows it (ELF st_size, kallmodsyms), else the kallsyms size. */
  size: number;
  sizeInferred: boolean;
  /** The kernel's kallsyms size: distance to the next symbol (what `func+off/size` prints). */
  kallsymsSize: number;
  type: string;
  /** Built-in or loadable module names; [] for the core kernel. */
  modules: string[];
  builtin: boolean;
  /** Full object path (fs/ext4/super.o) when known; a kallmodsyms suffix when only that is known. */
  objname: string | null;
  /** Shortest unique path suffix of objname, as /proc/kallmodsyms prints it. */
  objnameShort: string | null;
  /** For __pfx_/__cfi_ padding symbols: the function they pad. */
  paddingOf?: string;
}

/** What a reference resolved to. `ambiguous` ⇒ `candidates` lists every symbol it may denote. */
export interface Resolution {
  /** Symbol start, "0x..." (null when unresolved or ambiguous). */
  address: string | null;
  name: string | null;
  offset: number | null;
  size: number | null;
  sizeInferred: boolean | null;
  kallsymsSize: number | null;
  type: string | null;
  modules: string[];
  builtin: boolean;
  objname: string | null;
  objnameShort: string | null;
  paddingOf?: string;
  ambiguous: boolean;
  candidates: SymbolJson[];
  /**
   * How it was decided, for people: "address", "name+size", "name+evidence:parent-module", ... with
   * the sources of the module and objname. Spelled from `reason` (table/resolve-policy.ts).
   */
  resolvedBy: string;
  /** What the text printed that no candidate has ("module udf", "size 0x40"); absent when none. */
  mismatch?: string[];
  /** The rules that decided, in the order applied (not in JSON output: resolvedBy spells them). */
  reason: Reason[];
}

/**
 * One rule of the resolution policy (core/src/table/resolve-policy.ts), as applied to a reference:
 * - by address: `address` (the printed name, or none, at the printed address), `alias` (an alias
 *   there has the printed name), `return-address` (address - 1 is in the printed symbol),
 *   `inlined` (inlined code: the function it is in), `address-unusable:WHY` (nothing printed to
 *   fall back on), `address-disagrees` (in no symbol or another one: by name instead);
 * - by name: `name`, then what narrowed the candidates: `module`, `size`, `offset`,
 *   `not-loadable`, `evidence:LABEL`; what the text printed that no candidate has:
 *   `module-mismatch:MOD`, `size-mismatch:0xSIZE`; `inline-frame` (a log's `[inline]` line);
 * - `nothing`: neither a name nor an address was printed.
 */
export type Reason =
  | 'address' | 'alias' | 'return-address' | 'inlined' | `address-unusable:${string}` | 'address-disagrees'
  | 'name' | 'module' | 'size' | 'offset' | 'not-loadable' | `evidence:${string}`
  | `module-mismatch:${string}` | `size-mismatch:${string}` | 'inline-frame' | 'nothing';

/** What a transformer saw in the text, before resolution. Numbers as printed; null if not printed. */
export interface PrintedRef {
  /** The reference exactly as printed (e.g. "vfs_read+0x5/0x320 [null_blk]"). */
  text: string;
  name: string | null;
  offset: number | null;
  size: number | null;
  /** Printed address, "0x..." hex string. */
  address: string | null;
  /** Module printed next to it (`[mod]`, `:mod:`), when any. */
  module?: string | null;
}

/** One `--refs` output object: the printed reference, then its resolution. */
export interface RefJson {
  line: number;
  text: string;
  name: string | null;
  offset: number | null;
  size: number | null;
  address: string | null;
  symbolAddress: string | null;
  symbolSize: number | null;
  modules: string[];
  builtin: boolean;
  objname: string | null;
  objnameShort: string | null;
  ambiguous: boolean;
  candidates: SymbolJson[];
  resolvedBy: string;
}

/** When to print `{obj.o}`: always, only when name+module is ambiguous (default), never. */
export type ObjnameMode = 'always' | 'ambiguous' | 'never';

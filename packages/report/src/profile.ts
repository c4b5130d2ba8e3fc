/**
 * The aggregate of a profile: every sample's weight summed per frame, per module and per
 * (module, objname), self (the leaf) and total (anywhere in the stack, once per sample), and,
 * for `kallmod flame`, per call path. Memory is the number of distinct frames and paths, never
 * the input size. Which symbol a frame means is decided before it gets here (perf-script's
 * SampleWalker, perf-json's EntryAnnotator: core's one policy); this only counts.
 */
import type { SymbolTable } from '@kallmod/core/table/symbol-table';
import { symbolIndexOf } from '@kallmod/core/table/symbol-table';
import type { ObjnameMode, Resolution } from '@kallmod/core/types';

/** What a frame is: the core kernel, a built-in or loadable module, user space, a kernel frame no symbol explains, or one of several. */
export type FrameKind = 'core' | 'built-in' | 'loadable' | 'user' | 'unknown' | 'ambiguous';

export interface FrameInfo {
  /** The function name as printed or resolved (user frames: as stackcollapse-perf.pl names them). */
  name: string;
  /** The name with kallmod's notation (`init_once [udf] {super.o}`), as `kallmod perf` prints it. */
  label: string;
  kind: FrameKind;
  /** Built-in or loadable modules of the symbol (several: one object linked into several). */
  modules: string[];
  objname: string | null;
  objnameShort: string | null;
  /** User frames: the dso perf printed. */
  dso: string | null;
  /** Index into Profile.groups: its module row. */
  group: number;
  /** Index into Profile.objects: its (module, objname) row. */
  object: number;
}

export interface GroupInfo { label: string; kind: FrameKind; modules: string[] }
export interface ObjectInfo { group: number; objname: string | null; objnameShort: string | null }

/**
 * self and total weight per row, and the last sample that counted a row's total (once per
 * sample); typed arrays grown by doubling (rows: [0, length)).
 */
class Counts {
  self: Float64Array = new Float64Array(64);
  total: Float64Array = new Float64Array(64);
  private stamp: Float64Array = new Float64Array(64).fill(-1);
  length = 0;
  add(): void {
    if (this.length === this.self.length) {
      const grow = (a: Float64Array, fill: number): Float64Array => { const b = new Float64Array(a.length * 2).fill(fill); b.set(a); return b; };
      this.self = grow(this.self, 0); this.total = grow(this.total, 0); this.stamp = grow(this.stamp, -1);
    }
    this.length++;
  }
  self_(i: number, w: number): void { this.self[i]! += w; }
  once(i: number, w: number, sample: number): void {
    if (this.stamp[i] === sample) return;
    this.stamp[i] = sample;
    this.total[i]! += w;
  }
}

/** One call path node for the flame graph: children by frame, root first. */
export interface PathNode { frame: number; self: number; total: number; children: Map<number, PathNode> }

const STEP_BITS = 16;

export interface ProfileOptions {
  /** Only samples whose leaf is a kernel frame; user frames left out of every stack. */
  kernelOnly?: boolean;
  /** Weigh each sample by the period perf printed (else 1). */
  period?: boolean;
  /** Keep call paths (the flame graph). */
  paths?: boolean;
  objname?: ObjnameMode;
}

export class Profile {
  readonly frames: FrameInfo[] = [];
  readonly groups: GroupInfo[] = [];
  readonly objects: ObjectInfo[] = [];
  // what the getters below give, once the pending stacks are counted
  private readonly frameRows = new Counts();
  private readonly groupRows = new Counts();
  private readonly objectRows = new Counts();
  private counted = { samples: 0, weight: 0, kernelSamples: 0, kernelWeight: 0 };
  private readonly pathRoot: PathNode = { frame: -1, self: 0, total: 0, children: new Map() };
  /** Samples read (all of them). */
  samplesRead = 0;
  /** Samples that printed a period (--period without any: the report says so). */
  periodsSeen = 0;
  /**
   * The input was folded stacks: its numbers are the folder's counts, which are samples or,
   * where it weighed by period (`kallmod perf --fold`, stackcollapse-perf.pl), periods.
   */
  foldedCounts = false;
  // samples are counted per distinct stack (their counts and weights summed) when the results
  // are asked for: a profile's stacks repeat, and counting every frame of every sample was
  // most of report's and flame's time once the lines were memoised
  private readonly pending = new PendingStacks();
  /** The last sample counted, for a row's total once per sample. */
  private seq = 0;
  // the path nodes by index (root: 0), and a direct-mapped cache of (node, frame) -> child
  private readonly nodes: PathNode[] = [this.pathRoot];
  private readonly nodeIds = new Map<PathNode, number>([[this.pathRoot, 0]]);
  private readonly stepNode = new Int32Array(1 << STEP_BITS).fill(-1);
  private readonly stepFrame = new Int32Array(1 << STEP_BITS);
  private readonly stepChild = new Int32Array(1 << STEP_BITS);
  /** frames[i].group and .object, as arrays of small integers for the per-sample loop. */
  private readonly frameGroup: number[] = [];
  private readonly frameObject: number[] = [];
  private readonly bySymbol = new Map<number, number>();
  private readonly byKey = new Map<string, number>();
  private readonly groupByKey = new Map<string, number>();
  private readonly objectByKey = new Map<string, number>();
  private readonly commFrames = new Map<string, number>();
  /** The comm frames of the flame graph's first level (not counted in the tables). */
  readonly commFrame = new Set<number>();
  private readonly objnameMode: ObjnameMode;

  constructor(readonly table: SymbolTable, readonly opts: ProfileOptions = {}) {
    this.objnameMode = opts.objname ?? 'ambiguous';
  }

  get frameCounts(): Counts { this.flush(); return this.frameRows; }
  get groupCounts(): Counts { this.flush(); return this.groupRows; }
  get objectCounts(): Counts { this.flush(); return this.objectRows; }
  /** The flame graph's call paths (root: every counted sample). */
  get root(): PathNode { this.flush(); return this.pathRoot; }
  /** Samples counted (kernel-only leaves out the others). */
  get samples(): number { this.flush(); return this.counted.samples; }
  /** Sum of the counted samples' weights (= samples without --period). */
  get weight(): number { this.flush(); return this.counted.weight; }
  /** Counted samples whose leaf is a kernel frame, and their weight. */
  get kernelSamples(): number { this.flush(); return this.counted.kernelSamples; }
  get kernelWeight(): number { this.flush(); return this.counted.kernelWeight; }

  // ---- frames ----

  /** The frame of table symbol i. */
  symbolFrame(i: number): number {
    let id = this.bySymbol.get(i);
    if (id === undefined) {
      const t = this.table;
      const modules = t.modules(i);
      const kind: FrameKind = modules.length === 0 ? 'core' : t.isBuiltin(i) ? 'built-in' : 'loadable';
      id = this.addFrame({
        name: t.name(i), label: t.name(i) + t.annotation(i, this.objnameMode), kind, modules, objname: t.objname(i), objnameShort: t.objnameShort(i), dso: null,
      });
      this.bySymbol.set(i, id);
    }
    return id;
  }

  /** The frame of a resolution the fast test did not decide (printed: what perf printed as the name). */
  resolvedFrame(r: Resolution, printed: string | null): number {
    const i = symbolIndexOf(r);
    if (i >= 0) return this.symbolFrame(i);
    const name = r.name ?? printed ?? '[unknown]';
    if (!r.ambiguous) return this.unknownKernelFrame(name);
    const ann = this.table.annotationOf(r, this.objnameMode);
    return this.keyed(`A\0${name}${ann}`, () => {
      // one module set shared by every candidate is still known: the row is that module's
      const sets = new Set(r.candidates.map((c) => c.modules.join(' ')));
      const modules = sets.size === 1 ? r.candidates[0]!.modules : [];
      const kinds = new Set(r.candidates.map((c) => (c.modules.length === 0 ? 'core' : c.builtin ? 'built-in' : 'loadable')));
      const kind: FrameKind = sets.size === 1 && kinds.size === 1 ? [...kinds][0] as FrameKind : 'ambiguous';
      return { name, label: name + ann, kind, modules, objname: null, objnameShort: null, dso: null, ambiguousObject: true };
    });
  }

  /** A kernel frame that no symbol explains (`[unknown]`, an address outside every symbol). */
  unknownKernelFrame(printed: string | null): number {
    const name = printed ?? '[unknown]';
    return this.keyed(`U\0${name}`, () => ({ name, label: name, kind: 'unknown', modules: [], objname: null, objnameShort: null, dso: null }));
  }

  /**
   * A function inlined into frame `outer` (`name_[i]` in folded stacks: `kallmod perf --fold
   * --lines=fold`, stackcollapse-perf.pl's `outer->inlined`): its code is the outer function's,
   * so it counts in that frame's module and object rows; one frame per name there (the same
   * inlined helper under any caller of that object), labelled with the outer's notation.
   */
  inlinedFrame(name: string, outer: number): number {
    const o = this.frames[outer]!;
    const notation = o.label.startsWith(o.name) ? o.label.slice(o.name.length) : '';
    return this.keyed(`I\0${o.group}\0${o.object}\0${name}${notation}`, () => ({
      name, label: `${name}${notation} (inlined)`, kind: o.kind, modules: o.modules, objname: o.objname, objnameShort: o.objnameShort, dso: o.dso,
    }));
  }

  userFrame(name: string, dso: string): number {
    return this.keyed(`u\0${dso}\0${name}`, () => ({ name, label: name, kind: 'user', modules: [], objname: null, objnameShort: null, dso }));
  }

  private keyed(key: string, make: () => Omit<FrameInfo, 'group' | 'object'> & { ambiguousObject?: boolean }): number {
    let id = this.byKey.get(key);
    if (id === undefined) { id = this.addFrame(make()); this.byKey.set(key, id); }
    return id;
  }

  private addFrame(f: Omit<FrameInfo, 'group' | 'object'> & { ambiguousObject?: boolean }): number {
    const group = this.groupOf(f.kind, f.modules, f.dso);
    const object = this.objectOf(group, f.ambiguousObject ? '?' : f.objname, f.ambiguousObject ? '?' : f.objnameShort);
    const id = this.frames.length;
    this.frames.push({
      name: f.name, label: f.label, kind: f.kind, modules: f.modules, objname: f.objname, objnameShort: f.objnameShort, dso: f.dso, group, object,
    });
    this.frameGroup.push(group);
    this.frameObject.push(object);
    this.frameRows.add();
    return id;
  }

  private groupOf(kind: FrameKind, modules: string[], dso: string | null): number {
    const label = groupLabel(kind, modules, dso);
    const key = `${kind}\0${label}`;
    let g = this.groupByKey.get(key);
    if (g === undefined) {
      g = this.groups.length;
      this.groups.push({ label, kind, modules });
      this.groupRows.add();
      this.groupByKey.set(key, g);
    }
    return g;
  }

  private objectOf(group: number, objname: string | null, objnameShort: string | null): number {
    const key = `${group}\0${objname ?? ''}`;
    let o = this.objectByKey.get(key);
    if (o === undefined) {
      o = this.objects.length;
      this.objects.push({ group, objname, objnameShort });
      this.objectRows.add();
      this.objectByKey.set(key, o);
    }
    return o;
  }

  /** The flame graph's first level: the sample's comm (FlameGraph's folded root). */
  private commOf(comm: string): number {
    let id = this.commFrames.get(comm);
    if (id === undefined) {
      id = this.frames.length;
      this.frames.push({ name: comm, label: comm, kind: 'user', modules: [], objname: null, objnameShort: null, dso: null, group: -1, object: -1 });
      this.frameGroup.push(-1);
      this.frameObject.push(-1);
      this.frameRows.add();
      this.commFrames.set(comm, id);
      this.commFrame.add(id);
    }
    return id;
  }

  isKernel(id: number): boolean { return this.frames[id]!.kind !== 'user'; }

  // ---- samples ----

  /**
   * One sample: its frames leaf first (frame ids), weight by its period when asked, its comm
   * as the flame graph's root. `count` (folded input): how many samples the stack stands for.
   */
  addSample(stack: readonly number[], period: number, printedPeriod: boolean, comm: string | null, count = 1): void {
    this.samplesRead += count;
    if (this.opts.kernelOnly && (!stack.length || !this.isKernel(stack[0]!))) return;
    if (printedPeriod) this.periodsSeen += count;
    const w = this.opts.period ? period : count;
    const c = this.opts.paths && comm !== null ? this.commOf(comm) : -1;
    // integer weights sum to the same in any order; others (folded counts such as 1.5) are
    // counted in input order, as read
    if (Number.isInteger(w) && Number.isInteger(count) && this.pending.add(stack, c, count, w)) return;
    this.flush();
    this.count(stack, c, count, w);
  }

  /** Count the pending stacks. */
  private flush(): void {
    const p = this.pending;
    for (let e = 0; e < p.n; e++) this.count(p.stack(e), p.comm[e]!, p.count[e]!, p.weight[e]!);
    p.clear();
  }

  /** `count` samples of one stack (comm frame c, or -1), weighing w together. */
  private count(stack: ArrayLike<number>, c: number, count: number, w: number): void {
    let frames = stack;
    if (this.opts.kernelOnly) frames = Array.prototype.filter.call(stack, (f: number) => this.isKernel(f)) as number[];
    const n = this.seq++, k = this.counted;
    k.samples += count;
    k.weight += w;
    const fc = this.frameRows, gc = this.groupRows, oc = this.objectRows, fg = this.frameGroup, fo = this.frameObject;
    if (frames.length) {
      const leaf = frames[0]!;
      if (this.isKernel(leaf)) { k.kernelSamples += count; k.kernelWeight += w; }
      fc.self_(leaf, w);
      gc.self_(fg[leaf]!, w);
      oc.self_(fo[leaf]!, w);
    }
    for (let j = 0; j < frames.length; j++) {
      const id = frames[j]!;
      fc.once(id, w, n);
      gc.once(fg[id]!, w, n);
      oc.once(fo[id]!, w, n);
    }
    if (this.opts.paths) {
      this.pathRoot.total += w;
      let node = c >= 0 ? this.step(0, c, w) : 0;
      for (let j = frames.length - 1; j >= 0; j--) node = this.step(node, frames[j]!, w);
      this.nodes[node]!.self += w;
    }
  }

  /** The child of path node `node` (an index into nodes) for `frame`, its total counted: by the step cache, else the node's map. */
  private step(node: number, frame: number, w: number): number {
    const h = (Math.imul(node, 0x9e3779b1) ^ Math.imul(frame, 0x85ebca6b)) >>> (32 - STEP_BITS);
    let c: number;
    if (this.stepNode[h] === node && this.stepFrame[h] === frame) c = this.stepChild[h]!;
    else {
      const parent = this.nodes[node]!;
      let n = parent.children.get(frame);
      if (!n) {
        n = { frame, self: 0, total: 0, children: new Map() };
        parent.children.set(frame, n);
        this.nodeIds.set(n, this.nodes.length);
        this.nodes.push(n);
      }
      c = this.nodeIds.get(n)!;
      this.stepNode[h] = node; this.stepFrame[h] = frame; this.stepChild[h] = c;
    }
    this.nodes[c]!.total += w;
    return c;
  }
}

/**
 * Stacks of samples not counted yet: each distinct (comm frame, frames) once, with the sum of
 * its samples' counts and weights; found again by a direct-mapped hash of the ids (a slot taken
 * by another stack gets a second entry: counted apart, the same sums). Bounded: `add` refuses
 * when full, and the Profile counts them (then clear).
 */
class PendingStacks {
  private readonly ids = new Int32Array(1 << 19);
  private used = 0;
  n = 0;
  private readonly start = new Int32Array(ENTRIES);
  private readonly len = new Int32Array(ENTRIES);
  readonly comm = new Int32Array(ENTRIES);
  readonly count = new Float64Array(ENTRIES);
  readonly weight = new Float64Array(ENTRIES);
  private readonly slot = new Int32Array(ENTRIES * 2).fill(-1);

  add(stack: readonly number[], comm: number, count: number, w: number): boolean {
    const len = stack.length;
    let h = Math.imul(comm ^ len, 0x9e3779b1);
    for (let k = 0; k < len; k++) h = Math.imul(h ^ stack[k]!, 0x85ebca6b) ^ (h >>> 13);
    h = (h ^ (h >>> 16)) & (ENTRIES * 2 - 1);
    const e = this.slot[h]!;
    if (e >= 0 && this.len[e] === len && this.comm[e] === comm && this.same(this.start[e]!, stack)) {
      this.count[e] += count;
      this.weight[e] += w;
      return true;
    }
    if (this.n === ENTRIES || this.used + len > this.ids.length) return false;
    const n = this.n++, at = this.used;
    for (let k = 0; k < len; k++) this.ids[at + k] = stack[k]!;
    this.used += len;
    this.start[n] = at; this.len[n] = len; this.comm[n] = comm; this.count[n] = count; this.weight[n] = w;
    this.slot[h] = n;
    return true;
  }

  private same(at: number, stack: readonly number[]): boolean {
    const ids = this.ids;
    for (let k = 0; k < stack.length; k++) if (ids[at + k] !== stack[k]) return false;
    return true;
  }

  stack(e: number): Int32Array { return this.ids.subarray(this.start[e]!, this.start[e]! + this.len[e]!); }

  clear(): void { this.n = 0; this.used = 0; this.slot.fill(-1); }
}

const ENTRIES = 1 << 14;

export function groupLabel(kind: FrameKind, modules: readonly string[], dso: string | null): string {
  switch (kind) {
    case 'core': return '(core kernel)';
    case 'unknown': return '(unresolved kernel)';
    case 'user': return dso ? dso.slice(dso.lastIndexOf('/') + 1) || dso : '(user)';
    default: return modules.length ? modules.join(' ') : '(ambiguous)';
  }
}

/**
 * A perf-text or perf-JSON reader hands frames to a Profile through this: one sample at a
 * time (the walkers' SampleSink shape).
 */
export class SampleCollector {
  private stack: number[] = [];
  private comm: string | null = null;
  private period = 1;
  private printed = false;
  constructor(readonly profile: Profile) {}
  sample(comm: string | null, period: number, printed = period !== 1): void {
    this.stack.length = 0; this.comm = comm; this.period = period; this.printed = printed;
  }
  kernel(i: number, r: Resolution | null, printedName: string | null): number {
    const p = this.profile;
    const id = i >= 0 ? p.symbolFrame(i) : r ? p.resolvedFrame(r, printedName) : p.unknownKernelFrame(printedName);
    this.stack.push(id);
    return id;
  }
  user(name: string, dso: string): number { const id = this.profile.userFrame(name, dso); this.stack.push(id); return id; }
  repeat(id: number): void { this.stack.push(id); }
  end(): void { this.profile.addSample(this.stack, this.period, this.printed, this.comm); this.stack.length = 0; }
}

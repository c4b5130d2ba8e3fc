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

/** self and total weight per row, and the last sample that counted a row's total (once per sample). */
class Counts {
  self: number[] = [];
  total: number[] = [];
  private stamp: number[] = [];
  add(): void { this.self.push(0); this.total.push(0); this.stamp.push(-1); }
  self_(i: number, w: number): void { this.self[i]! += w; }
  once(i: number, w: number, sample: number): void {
    if (this.stamp[i] === sample) return;
    this.stamp[i] = sample;
    this.total[i]! += w;
  }
}

/** One call path node for the flame graph: children by frame, root first. */
export interface PathNode { frame: number; self: number; total: number; children: Map<number, PathNode> }

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
  readonly frameCounts = new Counts();
  readonly groupCounts = new Counts();
  readonly objectCounts = new Counts();
  /** Samples read (all of them), and those counted (kernel-only leaves out the others). */
  samplesRead = 0;
  samples = 0;
  /** Sum of the counted samples' weights (= samples without --period). */
  weight = 0;
  /** Counted samples whose leaf is a kernel frame, and their weight. */
  kernelSamples = 0;
  kernelWeight = 0;
  /** Samples that printed a period (--period without any: the report says so). */
  periodsSeen = 0;
  readonly root: PathNode = { frame: -1, self: 0, total: 0, children: new Map() };
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
    this.frameCounts.add();
    return id;
  }

  private groupOf(kind: FrameKind, modules: string[], dso: string | null): number {
    const label = groupLabel(kind, modules, dso);
    const key = `${kind}\0${label}`;
    let g = this.groupByKey.get(key);
    if (g === undefined) {
      g = this.groups.length;
      this.groups.push({ label, kind, modules });
      this.groupCounts.add();
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
      this.objectCounts.add();
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
      this.frameCounts.add();
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
    let frames = stack;
    if (this.opts.kernelOnly) {
      if (!frames.length || !this.isKernel(frames[0]!)) return;
      frames = frames.filter((f) => this.isKernel(f));
    }
    if (printedPeriod) this.periodsSeen += count;
    const w = this.opts.period ? period : count;
    const n = this.samples;
    this.samples += count;
    this.weight += w;
    if (frames.length && this.isKernel(frames[0]!)) { this.kernelSamples += count; this.kernelWeight += w; }
    if (frames.length) {
      const leaf = this.frames[frames[0]!]!;
      this.frameCounts.self_(frames[0]!, w);
      this.groupCounts.self_(leaf.group, w);
      this.objectCounts.self_(leaf.object, w);
    }
    for (const id of frames) {
      const f = this.frames[id]!;
      this.frameCounts.once(id, w, n);
      this.groupCounts.once(f.group, w, n);
      this.objectCounts.once(f.object, w, n);
    }
    if (this.opts.paths) this.addPath(frames, comm, w);
  }

  private addPath(frames: readonly number[], comm: string | null, w: number): void {
    let node = this.root;
    node.total += w;
    const path = comm !== null ? [this.commOf(comm), ...[...frames].reverse()] : [...frames].reverse();
    for (const id of path) {
      let c = node.children.get(id);
      if (!c) { c = { frame: id, self: 0, total: 0, children: new Map() }; node.children.set(id, c); }
      c.total += w;
      node = c;
    }
    node.self += w;
  }
}

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
  kernel(i: number, r: Resolution | null, printedName: string | null): void {
    const p = this.profile;
    this.stack.push(i >= 0 ? p.symbolFrame(i) : r ? p.resolvedFrame(r, printedName) : p.unknownKernelFrame(printedName));
  }
  user(name: string, dso: string): number { const id = this.profile.userFrame(name, dso); this.stack.push(id); return id; }
  repeat(id: number): void { this.stack.push(id); }
  end(): void { this.profile.addSample(this.stack, this.period, this.printed, this.comm); this.stack.length = 0; }
}

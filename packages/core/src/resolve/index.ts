export { parseResolveQuery, globToRegExp, isGlob, type ResolveQuery } from './query.js';
export { matchQuery, objnameMatches, type MatchResult } from './match.js';
export { parseFilterFunctions, ftraceIndex, ftraceModuleTag, type FilterFunctions, type FtraceIndex } from './filter-functions.js';
export {
  eventName, kprobeLine, perfProbeSpec, bpftraceSpec, probeAddress, kernelNameCount, checkEventIdent, MAX_EVENT_NAME, type BpftraceSpec,
} from './outputs.js';
export { findTracefs, readLiveFilterFunctions, instanceDir, applyWrites, describeWrite, TRACEFS_CANDIDATES, type PlannedWrite } from './apply.js';
export { resolveQueryText, uniqueQueryFor, candidateJson, type ResolveOptions, type ResolveAnswer, type CandidateJson } from './resolve.js';

export { buildGraph, type Graph } from './graph.js';
export { flameHtml } from './html.js';
export { flameSvg } from './svg.js';

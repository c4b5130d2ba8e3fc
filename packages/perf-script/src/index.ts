export { createAnnotator } from './annotator.js';

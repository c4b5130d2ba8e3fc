export { createAnnotator, cutPoint } from './annotator.js';

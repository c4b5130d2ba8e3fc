export { spec } from './command.js';

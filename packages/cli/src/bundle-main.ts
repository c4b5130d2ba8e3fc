/**
 * Entry of the CLI bundle (scripts/bundle.mjs, which bin/kallmod runs when it is up to date):
 * the modules that core loads lazily are taken from the bundle too, so each exists once.
 */
import { useBundledModules } from '@kallmod/core/lazy';

useBundledModules(import.meta.url);

export { main } from './main.js';

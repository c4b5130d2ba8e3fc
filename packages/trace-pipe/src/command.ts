import type { TransformerSpec } from '@kallmod/core';

export const spec: TransformerSpec = {
  name: 'trace',
  summary: 'annotate kernel symbols (trace)',
  help: '',
  annotatorUrl: new URL('./annotator.js', import.meta.url).href,
};

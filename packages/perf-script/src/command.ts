import type { TransformerSpec } from '@kallmod/core';

export const spec: TransformerSpec = {
  name: 'perf',
  summary: 'annotate kernel symbols (perf)',
  help: '',
  annotatorUrl: new URL('./annotator.js', import.meta.url).href,
};

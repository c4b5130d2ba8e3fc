import type { TransformerSpec } from '@kallmod/core';

export const spec: TransformerSpec = {
  name: 'dmesg',
  summary: 'annotate kernel symbols (dmesg)',
  help: '',
  annotatorUrl: new URL('./annotator.js', import.meta.url).href,
};

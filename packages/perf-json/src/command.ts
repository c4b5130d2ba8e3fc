import type { TransformerSpec } from '@kallmod/core';

export const spec: TransformerSpec = {
  name: 'json',
  summary: 'annotate perf data convert --to-json output',
  help: '',
  annotatorUrl: new URL('./command.js', import.meta.url).href,
};

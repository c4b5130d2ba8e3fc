import { printHelp } from '../help-text.js';
import { writeFileSync } from 'node:fs';
import { KallmodError } from '@kallmod/core/errors';
import { fsErrorText } from '@kallmod/core/fs-error';
import { buildGraph } from '@kallmod/flame/graph';
import { flameHtml } from '@kallmod/flame/html';
import { flameSvg } from '@kallmod/flame/svg';
import { parse, SOURCE_FLAGS_HELP } from '../common.js';
import { PROFILE_FLAGS, PROFILE_FLAGS_HELP, readProfileFromFlags } from './profile-input.js';

const HELP = `usage: kallmod flame [OPTIONS] [FILE] [-o OUT]

A flame graph coloured by module: a stable colour per module; the core kernel
(oranges), built-in modules (greens), loadable modules (blues), user space
(greys), unresolved (red) and ambiguous (magenta) kernel frames apart at a
glance; a legend. One self-contained HTML file (no network: the drawing library,
d3-flame-graph, is inside it): click a frame to zoom, search, hover for its
(name, module, objname) and counts; a legend entry highlights its frames.

${PROFILE_FLAGS_HELP}

Output (stdout unless -o):
  -o, --output FILE  write there
  --svg              a static SVG instead (<title> tooltips; no zoom, no search)
  --title TEXT       the title (default: kallmod flame: and the input's name)

${SOURCE_FLAGS_HELP}
`;

export async function run(argv: string[]): Promise<number> {
  const flags = { ...PROFILE_FLAGS, svg: { type: 'boolean' }, output: { type: 'string', short: 'o' }, title: { type: 'string' } } as const;
  const { values, positionals } = parse(argv, flags);
  if (values['help']) { printHelp(HELP); return 0; }
  const { profile } = await readProfileFromFlags('flame', values, positionals, { paths: true });
  const title = typeof values['title'] === 'string' ? values['title'] : `kallmod flame: ${positionals[0] && positionals[0] !== '-' ? positionals[0] : 'stdin'}`;
  const g = buildGraph(profile, title);
  const text = values['svg'] ? flameSvg(g) : flameHtml(g);
  const out = values['output'];
  if (typeof out === 'string') {
    try { writeFileSync(out, text); } catch (e) { throw new KallmodError(`cannot write: ${fsErrorText(e)}`, { file: out }); }
  } else process.stdout.write(text);
  return 0;
}

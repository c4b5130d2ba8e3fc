import { describe, expect, it } from 'vitest';
import { wrapHelp } from './help-text.js';

// hand-written help text (edge cases of the reflow, not kernel lines)
describe('wrapHelp', () => {
  it('reflows a prose paragraph up to a line ending in ":" and keeps short lines as they are', () => {
    const text = 'one two three four five six seven\neight nine ten:\n    example line\nshort';
    expect(wrapHelp(text, 20)).toBe('one two three four\nfive six seven eight\nnine ten:\n    example line\nshort');
  });
  it('hangs an option entry and its continuation lines at the description column', () => {
    const text = '  --jobs N   worker threads for large files\n             never more than the cores\n  --next     x';
    expect(wrapHelp(text, 36)).toBe([
      '  --jobs N   worker threads for',
      '             large files never more',
      '             than the cores',
      '  --next     x',
    ].join('\n'));
  });
  it('leaves a word longer than the width whole, and an example indented less than 8 alone', () => {
    expect(wrapHelp('  --x  /a/very/long/path/that/does/not/fit', 20)).toBe('  --x  /a/very/long/path/that/does/not/fit');
    const text = '  --y    text\n  ffff a b c d e f g h i j k';
    expect(wrapHelp(text, 16)).toBe('  --y    text\n  ffff a b c d e\n  f g h i j k');
  });
});

/**
 * Every --help and usage text goes out through here, reflowed to 80 columns so it reads in a
 * default terminal whatever width its source was written at: a paragraph of prose (lines at
 * column 0, up to a blank line, an indented line or a line ending in ':') and an option entry
 * with its continuation lines are joined and wrapped again; any other line is wrapped alone.
 */

export const HELP_WIDTH = 80;

// "  -j, --jobs N       worker threads ..." or "  bcc    frames of ...": a term indented by 2-4,
// two spaces or more, its description; the description's column is where continuations hang
const OPTION_ENTRY = /^( {2,4}\S.*?\s{2,})\S/;

export function wrapHelp(text: string, width = HELP_WIDTH): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length;) {
    const line = lines[i]!;
    const option = OPTION_ENTRY.exec(line);
    let j = i + 1;
    let hang = indentOf(line);
    if (option) {
      hang = option[1]!.length;
      while (j < lines.length && continuesOption(lines[j]!, indentOf(line))) j++;
      if (j > i + 1) hang = indentOf(lines[i + 1]!);
    } else if (line !== '' && hang === 0) {
      while (j < lines.length && !/:$/.test(lines[j - 1]!) && /^\S/.test(lines[j]!)) j++;
    }
    const joined = lines.slice(i, j).map((l, k) => (k ? l.trim() : l.trimEnd())).join(' ');
    out.push(...wrapLine(joined, width, hang));
    i = j;
  }
  return out.join('\n');
}

const indentOf = (line: string): number => /^ */.exec(line)![0].length;

// a continuation sits in a description column (8 or more, deeper than its entry); an example
// indented less than that is a line of its own
function continuesOption(line: string, entryIndent: number): boolean {
  const n = indentOf(line);
  return n < line.length && n > entryIndent && n >= 8;
}
function wrapLine(line: string, width: number, hang: number): string[] {
  if (line.length <= width) return [line];
  const pad = ' '.repeat(hang < width / 2 ? hang : 4);
  const out: string[] = [];
  let rest = line;
  while (rest.length > width) {
    const cut = rest.lastIndexOf(' ', width);
    // a word longer than the room left (a path, a URL) stays whole
    if (cut <= pad.length || rest.slice(0, cut).trim() === '') break;
    out.push(rest.slice(0, cut).trimEnd());
    rest = pad + rest.slice(cut + 1).trimStart();
  }
  out.push(rest);
  return out;
}

export function printHelp(text: string): void {
  process.stdout.write(wrapHelp(text));
}

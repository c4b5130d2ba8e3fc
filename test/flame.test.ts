/**
 * kallmod flame: the page, opened in a real headless Chromium (Debian's chromium, driven by
 * playwright-core; never a downloaded browser), renders without console errors, shows every
 * module of the profile in its legend and zooms on a click; its screenshots go to test-output/
 * (git-ignored) for people to look at. The SVG form carries the same legend.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, k, sourceFlags } from './kernel-fixture.js';
import { perfTextFrom612Dmesg, perfTextFrom612Stacktraces } from './perf-from-stacktraces.js';
import { tempDir } from './temp-dir.js';
import { sharedSnapshot } from './shared-snapshot.js';

const dir = tempDir('flame');
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-output');
// one capture of the 6.12 boot's sources per file: each run then starts from it in milliseconds
const src = sharedSnapshot(sourceFlags('kaslr'));

function kallmod(args: string[], input?: string): { out: string; err: string; status: number | null } {
  const r = spawnSync(CLI, args, { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

/** The 6.12 kernel's own stacks as perf text (test/perf-from-stacktraces.ts), and their modules per `kallmod report`. */
function profile612(): { file: string; modules: string[] } {
  const file = join(dir(), 'stacks-612.perf');
  if (!existsSync(file)) writeFileSync(file, perfTextFrom612Stacktraces().text + perfTextFrom612Dmesg().text);
  const r = JSON.parse(kallmod(['report', '--json', ...src(), file]).out) as { modules: { module: string }[] };
  return { file, modules: r.modules.map((m) => m.module) };
}

it('the page needs no network: every script and style is inline', () => {
  const { file } = profile612();
  const html = kallmod(['flame', ...src(), file]);
  expect(html.status).toBe(0);
  expect(html.err).toBe('');
  expect(html.out).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(\s*['"]?https?:/i);
  expect(html.out).toContain('d3-flame-graph 5.0.0 (Apache-2.0)');
  // the data is one JSON document, with nothing in it that could end the script element
  const data = /<script type="application\/json" id="kallmod-data">([\s\S]*?)<\/script>/.exec(html.out)![1]!;
  expect(data).not.toMatch(/</);
  expect(JSON.parse(data).samples).toBe(15);
});

it('--svg: every module in the legend, every frame a rect with its triplet in a <title>', () => {
  const { file, modules } = profile612();
  const svg = kallmod(['flame', '--svg', ...src(), file]).out;
  expect(svg.startsWith('<?xml')).toBe(true);
  for (const m of modules) expect(svg).toContain(`>${m} `);
  expect(svg).toMatch(/<title>null_queue_rq \[null_blk\]\nmodule: null_blk, objname: [^,]*main\.o, loadable module/);
  expect(svg).toMatch(/<title>lkdtm_do_action \[lkdtm\]\nmodule: lkdtm, objname: drivers\/misc\/lkdtm\/core\.o, built-in module/);
  // well-formed enough for an XML parser: tags balance
  expect((svg.match(/<g>/g) ?? []).length).toBe((svg.match(/<\/g>/g) ?? []).length);
  // folded stacks in: the same frames
  const folded = kallmod(['perf', '--fold', ...src(), file]).out;
  const f2 = kallmod(['flame', '--svg', ...src(), '--input', 'folded'], folded).out;
  for (const m of modules) expect(f2).toContain(`>${m} `);
});

const why = !existsSync(CHROMIUM) ? `${CHROMIUM} is absent (apt-get install chromium)` : null;
if (why) console.log(`[flame browser] skipped: ${why}`);

describe.skipIf(why !== null)('kallmod flame in headless Chromium', () => {
  // one browser for the file (its start was a third of each test), a fresh context per page
  let browser: Promise<import('playwright-core').Browser> | null = null;
  afterAll(async () => { if (browser) await (await browser).close(); });

  async function open(html: string, shot: string, fn: (page: import('playwright-core').Page) => Promise<void>): Promise<string[]> {
    browser ??= import('playwright-core').then(({ chromium }) => chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
      // its crash reporter writes $HOME/.config/chromium whatever the profile: the test's own directory instead
      env: { ...process.env, HOME: dir(), XDG_CONFIG_HOME: join(dir(), 'config'), XDG_CACHE_HOME: join(dir(), 'cache') },
    }));
    const page = join(dir(), `${shot}.html`);
    writeFileSync(page, html);
    const ctx = await (await browser).newContext({ viewport: { width: 1400, height: 860 } });
    const errors: string[] = [];
    try {
      const p = await ctx.newPage();
      p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      p.on('pageerror', (e) => errors.push(String(e)));
      // offline: any request but the page itself fails the test
      p.on('request', (r) => { if (!r.url().startsWith('file://')) errors.push(`network: ${r.url()}`); });
      await p.goto(`file://${page}`);
      await p.waitForSelector('#chart svg rect');
      await fn(p);
      mkdirSync(SHOTS, { recursive: true });
      await p.screenshot({ path: join(SHOTS, `${shot}.png`), fullPage: true });
    } finally {
      await ctx.close();
    }
    return errors;
  }

  it('6.12 profile: renders, legend has every module, a click zooms', async () => {
    const { file, modules } = profile612();
    const html = kallmod(['flame', ...src(), file]).out;
    const errors = await open(html, 'flame-6.12', async (p) => {
      const legend = await p.locator('#legend li[data-g]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset['module']));
      expect(legend.sort()).toEqual([...modules].sort());
      // colours: built-in and loadable modules and the core kernel each their own
      const swatch = (m: string) => p.locator(`#legend li[data-module="${m}"] .sw`).evaluate((e) => getComputedStyle(e).backgroundColor);
      const colours = new Set([await swatch('(core kernel)'), await swatch('lkdtm'), await swatch('null_blk')]);
      expect(colours.size).toBe(3);
      // click null_queue_rqs: it then spans the chart's width, its siblings are gone
      const frame = p.locator('#chart svg g.frame[name="null_queue_rqs [null_blk]"]').first();
      const before = Number(await frame.locator('rect').getAttribute('width'));
      const full = Number(await p.locator('#chart svg').getAttribute('width'));
      expect(before).toBeLessThan(full * 0.6);
      await frame.click();
      await p.waitForTimeout(600); // the zoom's transition
      const after = Number(await frame.locator('rect').getAttribute('width'));
      expect(after).toBeGreaterThan(full * 0.95);
      // the tooltip gives the triplet and counts
      await frame.hover();
      await expect.poll(() => p.locator('.d3-flame-graph-tip').innerText())
        .toMatch(/null_queue_rqs \[null_blk\][\s\S]*module: null_blk · objname: \S*main\.o[\s\S]*loadable module[\s\S]*total \d+ samples/);
      // search highlights
      await p.fill('#search', 'lkdtm');
      await expect.poll(() => p.locator('#details').innerText()).toMatch(/search: \d+ of 15/);
      await p.fill('#search', '');
      await p.click('#reset');
    });
    expect(errors).toEqual([]);
  }, 60_000);

  it('this machine\'s capture (user space and kernel): renders, legend complete', async () => {
    const text = spawnSync('xz', ['-dc', join(k('..'), 'perf/system-g.script.xz')], { maxBuffer: 1 << 30 }).stdout.toString('latin1');
    const ks = ['--kallsyms', join(k('..'), 'perf/kallsyms.xz')];
    const file = join(dir(), 'system-g.perf');
    writeFileSync(file, text, 'latin1');
    const modules = (JSON.parse(kallmod(['report', '--json', ...ks, file]).out) as { modules: { module: string }[] }).modules.map((m) => m.module);
    const html = kallmod(['flame', ...ks, file]).out;
    const errors = await open(html, 'flame-this-machine', async (p) => {
      const legend = await p.locator('#legend li[data-g]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset['module']));
      expect(legend.sort()).toEqual([...modules].sort());
    });
    expect(errors).toEqual([]);
    expect(readFileSync(join(SHOTS, 'flame-this-machine.png')).length).toBeGreaterThan(10_000);
  }, 60_000);
});

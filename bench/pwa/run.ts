// `npm run bench:pwa`: Lighthouse's PWA and best-practices audits of the web app as a node serves
// it (issue 45 item 5), with Debian's Chromium, inside a loopback-only network namespace (it re-runs
// itself in one as root; elsewhere it refuses to start Chromium with other interfaces up). Prints
// each category's score and every audit that did not pass; exits 1 when a category scores below 1.
//
// Lighthouse 11 is the last with the PWA category (12 removed it), so that is the one pinned
// (devDependency `lighthouse`, packages/web). packages/web/test/pwa.browser.test.ts asserts both
// categories score 100 (~10 s of its run); this prints every audit, mobile or --form-factor desktop,
// and --json <file> keeps the whole report.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from '@cascade/http';
import { ensureWebBuilt } from '../../packages/web/index.ts';
import { loopbackNodeOptions, refuseOutsideLoopback, rerunInLoopbackNamespace } from '../scale/netns.ts';

const { values } = parseArgs({ options: { json: { type: 'string' }, 'form-factor': { type: 'string', default: 'mobile' } } });

await rerunInLoopbackNamespace({
  envVar: 'CASCADE_BENCH_PWA_NETNS',
  prefix: 'cascade-pwa',
  script: import.meta.filename,
  fallback: 'cannot make a network namespace: running Lighthouse here only if lo is the only interface',
});
refuseOutsideLoopback();

const lighthouse = (await import('lighthouse')).default;

await ensureWebBuilt({ quiet: true });
const stateDir = await mkdtemp(join(tmpdir(), 'cascade-bench-pwa-'));
const profile = await mkdtemp(join(tmpdir(), 'cascade-bench-pwa-chromium-'));
const server = await startServer(loopbackNodeOptions(stateDir));
await server.ready;
// shared/browser-webrtc.md's flags that matter here (no WebRTC): nothing in the background, no sandbox as root.
const flags = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const chromium = spawn('/usr/bin/chromium', ['--headless=new', '--remote-debugging-port=0', `--user-data-dir=${profile}`, ...flags, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
try {
  // Chromium says where its DevTools listen on stderr: "DevTools listening on ws://127.0.0.1:PORT/…".
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    chromium.stderr!.setEncoding('utf8').on('data', (c: string) => {
      err += c;
      const m = /DevTools listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(err);
      if (m) resolve(Number(m[1]));
    });
    chromium.once('exit', (code) => reject(new Error(`chromium exited (${code}): ${err.slice(-2000)}`)));
  });
  const started = Date.now();
  const desktop = values['form-factor'] === 'desktop';
  const result = await lighthouse(`${server.url}/`, {
    port,
    output: 'json',
    logLevel: 'error',
    onlyCategories: ['pwa', 'best-practices'],
    formFactor: desktop ? 'desktop' : 'mobile',
    screenEmulation: desktop ? { mobile: false, width: 1366, height: 768, deviceScaleFactor: 1, disabled: false } : { mobile: true, width: 360, height: 740, deviceScaleFactor: 2, disabled: false },
  });
  if (!result) throw new Error('Lighthouse returned no result');
  const { lhr } = result;
  console.log(`Lighthouse ${lhr.lighthouseVersion}, ${lhr.environment.hostUserAgent.match(/Chrome\/[\d.]+/)?.[0] ?? ''}, ${values['form-factor']}, ${lhr.finalDisplayedUrl} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  let ok = true;
  for (const cat of Object.values(lhr.categories)) {
    console.log(`  ${cat.title}: ${cat.score === null ? 'n/a' : Math.round(cat.score * 100)}`);
    if (cat.score !== null && cat.score < 1) ok = false;
    for (const ref of cat.auditRefs) {
      const a = lhr.audits[ref.id]!;
      if (a.scoreDisplayMode === 'manual' || a.scoreDisplayMode === 'notApplicable' || a.scoreDisplayMode === 'informative') continue;
      const mark = a.score === 1 ? 'pass' : a.score === null ? a.scoreDisplayMode : 'FAIL';
      console.log(`    ${mark.padEnd(6)} ${ref.id}${a.score === 1 ? '' : `: ${a.title}${a.explanation ? ` — ${a.explanation}` : ''}`}`);
    }
  }
  if (values.json) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(values.json, JSON.stringify(lhr, null, 2));
  }
  process.exitCode = ok ? 0 : 1;
} finally {
  chromium.kill();
  await once(chromium, 'exit').catch(() => {});
  await server.close();
  await rm(stateDir, { recursive: true, force: true });
  await rm(profile, { recursive: true, force: true });
}

// The explorer page's time to first render on a long chain (issue 8, point 10).
//
// Builds a regtest chain of --blocks blocks (default 100,000) with peerchain-make-chain,
// starts one node on it, and opens its page in headless Chromium --runs times (default 5),
// each in a fresh browser profile: an empty cache, as a first visit. For each run it reads
// the page's own performance marks (web/app.js): `peerchain:tip` (the tip's height and hash
// on screen), `peerchain:blocks` (the list of recent blocks), `peerchain:charts` (the hash
// rate and interval charts), from the start of navigation; and it counts what the page
// asked of the API: requests and response bytes. Prints each run and the medians.
//
//   PEERCHAIN_BIN=build/src/app/peerchain \
//   PEERCHAIN_MAKE_CHAIN=build/tests/integration/peerchain-make-chain \
//   node bench/page_scenario.js [--blocks N] [--runs R]
//
// playwright-core comes from tests/browser (run `npm ci` there first); the browser is
// Debian's /usr/bin/chromium (CHROMIUM overrides).
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { chromium } = require(require.resolve('playwright-core', {
  paths: [path.join(__dirname, '..', 'tests', 'browser')],
}));

const BIN = process.env.PEERCHAIN_BIN || 'peerchain';
const MAKE_CHAIN = process.env.PEERCHAIN_MAKE_CHAIN || 'peerchain-make-chain';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main() {
  const blocks = option('--blocks', 100000);
  const runs = option('--runs', 5);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'peerchain-page-bench-'));
  const dataDir = path.join(root, 'node');
  let node = null;
  try {
    const t0 = Date.now();
    execFileSync(MAKE_CHAIN, ['--network', 'regtest', '--data-dir', dataDir, '--blocks', String(blocks)],
                 { stdio: ['ignore', 'ignore', 'inherit'] });
    console.log(`chain of ${blocks} blocks built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const logFile = fs.openSync(path.join(root, 'node.log'), 'a');
    node = spawn(BIN, ['node', '--network', 'regtest', '--data-dir', dataDir, '--http-port', '0',
                       '--p2p-port', '0', '--http-bind', '127.0.0.1', '--p2p-bind', '127.0.0.1'],
                 { stdio: ['ignore', logFile, logFile] });
    let info = null;
    for (let i = 0; i < 1200 && !info; i++) {
      await sleep(50);
      if (node.exitCode !== null) throw new Error('the node exited; see ' + path.join(root, 'node.log'));
      try {
        const j = JSON.parse(fs.readFileSync(path.join(dataDir, 'node.json'), 'utf8'));
        if (j.pid === node.pid) info = j;
      } catch (e) { /* not yet */ }
    }
    if (!info) throw new Error('the node did not start within 60 s');
    const url = `http://127.0.0.1:${info.httpPort}/`;
    const status = await (await fetch(url + 'status')).json();
    console.log(`node at height ${status.height}: ${url}`);

    const results = [];
    for (let run = 0; run < runs; run++) {
      const profile = fs.mkdtempSync(path.join(root, 'profile-'));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        viewport: { width: 1200, height: 900 },
      });
      const page = await context.newPage();
      let apiRequests = 0;
      let apiBytes = 0;
      page.on('response', (res) => {
        const u = new URL(res.url());
        if (u.pathname.startsWith('/static/') || u.pathname === '/' || u.pathname === '/events') return;
        apiRequests++;
        apiBytes += Number(res.headers()['content-length'] || 0);
      });
      await page.goto(url);
      await page.waitForFunction(() => performance.getEntriesByName('peerchain:charts').length > 0,
                                 null, { timeout: 60000 });
      const marks = await page.evaluate(() => {
        const at = (name) => performance.getEntriesByName(name)[0].startTime;
        const paint = performance.getEntriesByName('first-contentful-paint')[0];
        return { fcp: paint ? paint.startTime : NaN, tip: at('peerchain:tip'),
                 blocks: at('peerchain:blocks'), charts: at('peerchain:charts') };
      });
      const shown = await page.textContent('#tip-height');
      if (shown.replace(/,/g, '') !== String(status.height)) throw new Error('tip shown: ' + shown);
      await context.close();
      results.push({ ...marks, apiRequests, apiBytes });
      console.log(`run ${run + 1}: first paint ${marks.fcp.toFixed(0)} ms, tip ${marks.tip.toFixed(0)} ms, ` +
                  `block list ${marks.blocks.toFixed(0)} ms, charts ${marks.charts.toFixed(0)} ms; ` +
                  `${apiRequests} API requests, ${apiBytes} bytes`);
    }
    const m = (k) => median(results.map((r) => r[k]));
    console.log(`median of ${runs}: first paint ${m('fcp').toFixed(0)} ms, tip ${m('tip').toFixed(0)} ms, ` +
                `block list ${m('blocks').toFixed(0)} ms, charts ${m('charts').toFixed(0)} ms; ` +
                `${m('apiRequests')} API requests, ${m('apiBytes')} bytes`);
  } finally {
    if (node && node.exitCode === null) {
      node.kill('SIGTERM');
      await new Promise((resolve) => node.once('exit', resolve));
    }
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});

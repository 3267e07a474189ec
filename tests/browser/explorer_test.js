// The explorer page (issue 8, points 2 and 9) in a real browser: Debian's Chromium, headless,
// driven by playwright-core, against `peerchain testnet --nodes 3 --network regtest` and a
// fourth node of its own for a reorganisation.
//
// Checks: the page loads without console errors and follows the event stream; a block mined
// through the API shows within 2 s without a reload; search finds a txid; an address page
// shows a payment's balance; a data payload that looks like markup stays text; a block that a
// reorg took off says so; the home page fits a 390 px phone; a node syncing a 100,000-block
// chain shows its progress bar and ends on the tip. Screenshots of each page go to
// $PEERCHAIN_ARTIFACTS (default: ./artifacts).
//
// Environment: PEERCHAIN_BIN (the peerchain binary), PEERCHAIN_MAKE_CHAIN (the chain
// builder of tests/integration), CHROMIUM (default /usr/bin/chromium).
'use strict';

const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const BIN = process.env.PEERCHAIN_BIN || 'peerchain';
const MAKE_CHAIN = process.env.PEERCHAIN_MAKE_CHAIN || 'peerchain-make-chain';
const SYNC_BLOCKS = 100000;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = path.resolve(process.env.PEERCHAIN_ARTIFACTS || 'artifacts');
const COIN = 100000000;
// The data payload of the payment: markup that must show as text, never run.
const PAYLOAD = 'rent <img src=x onerror="window.pwned=1"><script>window.pwned=2</script> & more';

const cleanups = [];
const started = Date.now();

function log(...args) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s]`, ...args);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what, fn, timeoutMs = 30000, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
}

// --- nodes -------------------------------------------------------------------------------

class Api {
  constructor(url, dataDir) {
    this.url = url.replace(/\/$/, '');
    this.dataDir = dataDir;
  }

  token() {
    return fs.readFileSync(path.join(this.dataDir, '.cookie'), 'utf8').trim();
  }

  async request(method, route, body, withToken) {
    const headers = { 'Content-Type': 'application/json' };
    if (withToken) headers.Authorization = 'Bearer ' + this.token();
    const res = await fetch(this.url + route, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${this.url}${route}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  get(route) { return this.request('GET', route); }
  mine(data) { return this.request('POST', '/mineBlock', { data }); }
  wallet(method, route, body) { return this.request(method, route, body, true); }
}

// Every node.json under `dir`: its HTTP port -> its data dir.
function dataDirsByPort(dir) {
  const out = new Map();
  const walk = (d, depth) => {
    if (depth > 3) return;
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p, depth + 1);
      else if (entry.name === 'node.json') {
        try { out.set(JSON.parse(fs.readFileSync(p, 'utf8')).httpPort, d); } catch (e) { /* being written */ }
      }
    }
  };
  walk(dir, 0);
  return out;
}

function stopProcess(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const timer = setTimeout(() => { proc.kill('SIGKILL'); }, 20000);
    proc.once('exit', () => { clearTimeout(timer); resolve(); });
    proc.kill('SIGTERM');
  });
}

// `peerchain testnet --nodes N`: the URLs it prints, one line per node, then a Ctrl-C line.
async function startTestnet(nodes, dir) {
  const proc = spawn(BIN, ['testnet', '--nodes', String(nodes), '--network', 'regtest', '--dir', dir],
                     { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => stopProcess(proc));
  let out = '';
  proc.stderr.on('data', (d) => { out += d; });
  const urls = await new Promise((resolve, reject) => {
    const found = [];
    let buffer = '';
    const timer = setTimeout(() => reject(new Error('testnet did not start within 60 s:\n' + out)), 60000);
    proc.on('exit', (code) => reject(new Error(`testnet exited with ${code}:\n${out}`)));
    proc.stdout.on('data', (d) => {
      out += d;
      buffer += d;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const m = line.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
        if (m) found.push(m[0]);
        if (line.includes('Ctrl-C')) {
          clearTimeout(timer);
          resolve(found);
        }
      }
    });
  });
  assert.equal(urls.length, nodes, 'one explorer URL per node:\n' + out);
  const dirs = dataDirsByPort(dir);
  return urls.map((url) => {
    const port = Number(new URL(url).port);
    assert.ok(dirs.has(port), `a data dir under --dir for ${url}`);
    return new Api(url, dirs.get(port));
  });
}

// A node of its own, as tests/integration/harness.py starts one.
async function startNode(name, root, chainBlocks) {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  if (chainBlocks) {
    execFileSync(MAKE_CHAIN, ['--network', 'regtest', '--data-dir', dir, '--blocks', String(chainBlocks)],
                 { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300000 });
  }
  const logFile = fs.openSync(path.join(dir, 'node.log'), 'a');
  const proc = spawn(BIN, ['node', '--network', 'regtest', '--data-dir', dir, '--http-port', '0',
                           '--p2p-port', '0', '--http-bind', '127.0.0.1', '--p2p-bind', '127.0.0.1'],
                     { stdio: ['ignore', logFile, logFile] });
  cleanups.push(() => stopProcess(proc));
  const info = await waitFor(`${name} to start`, () => {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}`);
    const j = JSON.parse(fs.readFileSync(path.join(dir, 'node.json'), 'utf8'));
    return j.pid === proc.pid ? j : null;
  });
  const node = new Api(`http://127.0.0.1:${info.httpPort}/`, dir);
  node.p2pUrl = `ws://127.0.0.1:${info.p2pPort}`;
  return node;
}

// --- the browser -------------------------------------------------------------------------

async function launch(userDataDir) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 900 },
  });
}

// Console errors and uncaught exceptions of a page, and any dialog (an alert from markup
// that ran would be one).
function watch(page, problems) {
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push({ text: msg.text(), url: msg.location().url || '' });
  });
  page.on('pageerror', (err) => problems.push({ text: 'uncaught: ' + err.message, url: '' }));
  page.on('dialog', (d) => { problems.push({ text: 'dialog: ' + d.message(), url: '' }); d.dismiss(); });
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, name + '.png'), fullPage: false });
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'peerchain-browser-'));
  cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));

  const [a, b] = await startTestnet(3, path.join(root, 'testnet'));
  log('testnet up:', a.url, b.url);

  const context = await launch(path.join(root, 'chromium-profile'));
  cleanups.push(() => context.close());
  const page = await context.newPage();
  const problems = [];
  watch(page, problems);

  // The page loads, shows the tip and follows the stream.
  await page.goto(a.url + '/');
  await page.waitForSelector('#tip-height');
  await page.waitForSelector('#live.on', { timeout: 10000 });
  await page.waitForSelector('#blocks');
  assert.deepEqual(problems, [], 'no console errors while loading');
  await page.evaluate(() => { window.notReloaded = true; });

  // A block mined through the API shows within 2 s, without a reload.
  const mined = await a.mine('seen live');
  const t0 = Date.now();
  await page.waitForSelector(`#blocks tr[data-hash="${mined.hash}"]`, { timeout: 2000 });
  log(`mined block ${mined.index} on the page after ${Date.now() - t0} ms`);
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page was not reloaded');
  assert.equal(await page.textContent('#tip-height'), String(mined.index));

  // Coins to spend: coinbases mature after 100 blocks.
  for (let i = 0; i < 101; i++) await a.mine('block ' + i);
  const tip = (await a.get('/status')).height;
  await page.waitForFunction((h) => document.querySelector('#tip-height')?.textContent === h,
                             tip.toLocaleString('en-US'), { timeout: 5000 });
  await page.waitForSelector('svg path.line');
  await shot(page, 'home');
  log('home at height', tip);

  // A payment from A to B, with a payload that looks like markup.
  const to = (await b.wallet('GET', '/wallet/address')).address;
  const { txid } = await a.wallet('POST', '/wallet/send', { to, amount: 7 * COIN, data: PAYLOAD });
  log('payment', txid);

  // The mempool page lists it.
  await page.goto(a.url + '/#/mempool');
  await page.waitForSelector(`#mempool a[href="#/tx/${txid}"]`, { timeout: 5000 });
  await shot(page, 'mempool');

  // Search finds the txid; its payload shows as text.
  await page.goto(a.url + '/#/');
  await page.waitForSelector('#blocks');
  await page.fill('#search-input', txid);
  await page.press('#search-input', 'Enter');
  await page.waitForFunction((t) => document.querySelector('#txid')?.textContent === t, txid, { timeout: 5000 });
  assert.equal(await page.evaluate(() => location.hash), '#/tx/' + txid);
  assert.ok((await page.textContent('main')).includes(PAYLOAD), 'the payload shows as text');
  assert.equal(await page.evaluate(() => window.pwned), undefined, 'the payload did not run');
  assert.equal(await page.locator('main img, main script').count(), 0);

  // Mined: the transaction page follows (confirmations), and B's address shows the balance.
  const confirming = await a.mine('confirms the payment');
  await page.waitForFunction(() => /\d confirmation/.test(document.querySelector('#tx-status')?.textContent || ''),
                             null, { timeout: 5000 });
  await shot(page, 'tx');
  await waitFor('B to have the block', async () => (await b.get('/status')).tipHash === confirming.hash);
  await page.goto(b.url + '/#/address/' + to);
  await page.waitForFunction(() => document.querySelector('#balance')?.textContent === '7 coins', null,
                             { timeout: 5000 });
  await page.waitForSelector(`#history a[href="#/tx/${txid}"]`);
  await shot(page, 'address');

  // The block page of the confirming block: header fields, its transactions and payloads.
  await page.goto(a.url + '/#/block/' + confirming.hash);
  await page.waitForSelector(`main a[href="#/tx/${txid}"]`);
  assert.equal(await page.locator('#offchain').count(), 0, 'an active block is not marked off-chain');
  await shot(page, 'block');

  // Peers: the testnet links the nodes.
  await page.goto(a.url + '/#/peers');
  await page.waitForSelector('#peers tbody tr');
  await shot(page, 'peers');

  // Only the search's probe of /blocks/<txid> may have answered 404 (the browser logs it).
  const unexpected = problems.filter((p) => !(p.url.endsWith('/blocks/' + txid) && /404/.test(p.text)));
  assert.deepEqual(unexpected, [], 'no console errors');

  // A reorg: D, alone, mines two blocks; linked to A's longer chain it switches to it. Its
  // page, open on one of its own blocks, says so without a reload.
  const d = await startNode('D', root);
  const doomed = [await d.mine('doomed 0'), await d.mine('doomed 1')];
  const dpage = await context.newPage();
  const dproblems = [];
  watch(dpage, dproblems);
  await dpage.goto(d.url + '/#/block/' + doomed[0].hash);
  await dpage.waitForSelector('#confirmations');
  await dpage.waitForSelector('#live.on', { timeout: 10000 });
  assert.equal(await dpage.locator('#offchain').count(), 0);
  await linkTo(d, a);
  await waitFor('D to switch to A\'s chain', async () => (await d.get('/status')).tipHash === (await a.get('/status')).tipHash, 30000);
  await dpage.waitForSelector('#offchain', { timeout: 5000 });
  assert.match(await dpage.textContent('#offchain'), /Not in the active chain/);
  assert.equal((await d.get('/blocks/' + doomed[0].hash)).confirmations, 0);
  await shot(dpage, 'block-offchain');
  assert.deepEqual(dproblems, [], 'no console errors on D\'s page');
  log('reorg shown');

  // A phone: 390 px wide, nothing wider than the screen.
  const phone = await context.newPage();
  const pproblems = [];
  watch(phone, pproblems);
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(a.url + '/');
  await phone.waitForSelector('#blocks');
  await phone.waitForSelector('svg path.line');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 390, `the home page fits 390 px (scrollWidth ${overflow})`);
  await shot(phone, 'home-phone');
  assert.deepEqual(pproblems, []);

  // A sync: F, new, is linked to E, which holds a long chain. F's page shows the progress
  // bar while it syncs (from sync events, or /status while the stream is quiet), stays
  // responsive, and ends on E's tip with the bar gone and the stream live again.
  const e = await startNode('E', root, SYNC_BLOCKS);
  const f = await startNode('F', root);
  log(`E holds ${SYNC_BLOCKS} blocks`);
  const fpage = await context.newPage();
  const fproblems = [];
  watch(fpage, fproblems);
  await fpage.goto(f.url + '/');
  await fpage.waitForSelector('#live.on', { timeout: 10000 });
  await linkTo(f, e);
  await fpage.waitForSelector('#sync:not([hidden])', { timeout: 30000 });
  assert.match(await fpage.textContent('#sync-text'), /^Syncing: block [\d,]+ of [\d,]+ \(/);
  await shot(fpage, 'home-syncing');
  await fpage.waitForFunction((h) => document.querySelector('#tip-height')?.textContent === h &&
                                     document.querySelector('#sync').hidden &&
                                     document.querySelector('#live.on') !== null,
                              SYNC_BLOCKS.toLocaleString('en-US'), { timeout: 120000 });
  await fpage.waitForSelector(`#blocks tbody tr:first-child td >> text=${SYNC_BLOCKS.toLocaleString('en-US')}`);
  assert.deepEqual(fproblems, [], 'no console errors on F\'s page');
  log('sync shown');
  log('all checks passed; screenshots in', ARTIFACTS);
}

// Makes `a` a manual peer of `d`, by the P2P port in a's node.json.
async function linkTo(d, a) {
  const info = JSON.parse(fs.readFileSync(path.join(a.dataDir, 'node.json'), 'utf8'));
  await d.request('POST', '/addPeer', { peer: `ws://127.0.0.1:${info.p2pPort}` });
}

(async () => {
  let code = 0;
  try {
    await main();
  } catch (e) {
    console.error('FAIL:', e && e.stack ? e.stack : e);
    code = 1;
  }
  for (const fn of cleanups.reverse()) {
    try { await fn(); } catch (e) { /* already gone */ }
  }
  process.exit(code);
})();

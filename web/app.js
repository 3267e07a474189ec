// The explorer page: reads the node's JSON API (docs/API.md) and follows its event stream
// (GET /events), falling back to polling /status when the stream is not there.
//
// Everything shown comes from the chain, and a block's or transaction's data payload is
// whatever its author chose: the page builds its DOM with createElement and text nodes only
// (never innerHTML), and links are built from encoded ids behind a fixed "#/" prefix.
'use strict';

(function () {
  const COIN = 100000000;
  const RECENT = 50;        // blocks read for the list and the charts, whatever the chain's length
  const LIST = 15;          // of which the home page lists
  const HASHRATE_WINDOW = 10;
  const POLL_MS = 1500;

  const main = document.getElementById('main');
  const state = {
    status: null,
    blocks: [],             // recent blocks of the active chain, oldest first (summaries)
    mempool: null,
    workPerDifficulty: null,
    fresh: new Set(),       // hashes that came by the stream since the last render
    firstTip: false,
    firstBlocks: false,
    firstCharts: false,
  };
  let renderSeq = 0;

  // --- DOM helpers -------------------------------------------------------------------

  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, String(v));
    }
    appendKids(el, kids);
    return el;
  }

  function appendKids(el, kids) {
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid instanceof Node ? kid : String(kid));  // a string becomes a text node
    }
  }

  function svg(tag, attrs, ...kids) {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    appendKids(el, kids);
    return el;
  }

  function show(...nodes) {
    main.replaceChildren(...nodes.flat(Infinity).filter(Boolean));
  }

  function link(route, id, text, cls) {
    return h('a', { href: '#/' + route + '/' + encodeURIComponent(String(id)), class: cls },
             text === undefined ? String(id) : text);
  }

  function hashLink(route, id) {
    return link(route, id, String(id), 'hash short');
  }

  function fields(pairs) {
    return h('dl', { class: 'fields' },
             pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
  }

  function table(head, rows, id) {
    return h('div', { class: 'table-wrap' },
             h('table', { id },
               h('thead', null, h('tr', null, head.map((c) =>
                 typeof c === 'string' ? h('th', null, c) : h('th', c[1], c[0])))),
               h('tbody', null, rows)));
  }

  function payload(text) {
    if (text === undefined || text === null || text === '') return null;
    return h('pre', { class: 'payload' }, text);
  }

  function errorBox(message) {
    return h('div', { class: 'error' }, message);
  }

  // --- formatting ----------------------------------------------------------------------

  // Base units to coins, exactly (amounts stay below 2^53): "50", "0.5", "-7.00001".
  function coins(units) {
    if (typeof units !== 'number' || !Number.isFinite(units)) return '?';
    const sign = units < 0 ? '-' : '';
    const abs = Math.abs(units);
    const whole = Math.floor(abs / COIN);
    const frac = String(abs % COIN).padStart(8, '0').replace(/0+$/, '');
    return sign + whole.toLocaleString('en-US') + (frac ? '.' + frac : '');
  }

  function amount(units) {
    return h('span', { class: 'amount', title: units + ' base units' }, coins(units) + ' coins');
  }

  function num(n) {
    return typeof n === 'number' ? n.toLocaleString('en-US') : '?';
  }

  function utc(t) {
    if (typeof t !== 'number') return '?';
    return new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
  }

  function ago(t) {
    const s = Math.round(Date.now() / 1000 - t);
    if (s < 0) return (-s) + ' s ahead';
    if (s < 90) return s + ' s ago';
    if (s < 5400) return Math.round(s / 60) + ' min ago';
    if (s < 172800) return Math.round(s / 3600) + ' h ago';
    return Math.round(s / 86400) + ' d ago';
  }

  function when(t) {
    return h('span', { title: utc(t) }, ago(t));
  }

  function rate(hps) {
    if (!Number.isFinite(hps) || hps <= 0) return '–';
    const units = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s', 'PH/s', 'EH/s'];
    let i = 0;
    while (hps >= 1000 && i < units.length - 1) { hps /= 1000; i++; }
    return hps.toFixed(hps < 10 ? 2 : hps < 100 ? 1 : 0) + ' ' + units[i];
  }

  // --- the API -------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path) {
    const res = await fetch(path, { headers: { Accept: 'application/json' } });
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    if (!res.ok) {
      const err = body && body.error ? body.error : {};
      throw new ApiError(res.status, err.code || 'http-' + res.status,
                         err.message || 'the node answered ' + res.status);
    }
    return { body, headers: res.headers };
  }

  async function get(path) {
    return (await api(path)).body;
  }

  function summary(b) {
    return {
      height: b.index, hash: b.hash, time: b.timestamp, difficulty: b.difficulty,
      txCount: Array.isArray(b.transactions) ? b.transactions.length : b.txCount,
      size: b.size,
    };
  }

  // --- home: tip, charts, recent blocks ------------------------------------------------

  async function loadHome() {
    const status = await get('/status');
    state.status = status;
    setNetwork(status.network);
    showSyncFromStatus(status);
    if (isHome()) renderHome();
    if (!state.firstTip) { state.firstTip = true; performance.mark('peerchain:tip'); }

    // The listed blocks first, so that the list shows after one small answer; then the
    // older ones the charts need. Only RECENT blocks are read, however long the chain.
    const listFrom = Math.max(0, status.height - LIST + 1);
    const workPromise = state.workPerDifficulty === null ? genesisWork() : Promise.resolve(state.workPerDifficulty);
    const infoPromise = get('/mempool/info').catch(() => null);
    const listed = (await get('/blocks?from=' + listFrom + '&limit=' + LIST)).map(summary);
    // Blocks below the list that an earlier load or the stream brought stay; a reorg
    // empties them (see the stream's handlers).
    const chartFrom = Math.max(0, listFrom - (RECENT - LIST));
    const older = state.blocks.filter((b) => b.height >= chartFrom && b.height < listFrom);
    state.blocks = older.concat(listed);
    state.mempool = await infoPromise;
    if (isHome()) renderHome();
    if (!state.firstBlocks) { state.firstBlocks = true; performance.mark('peerchain:blocks'); }

    if (older.length < listFrom - chartFrom) {
      const more = await get('/blocks?from=' + chartFrom + '&limit=' + (listFrom - chartFrom));
      state.blocks = more.map(summary).concat(listed);
    }
    state.workPerDifficulty = await workPromise;
    if (isHome()) renderHome();
    if (!state.firstCharts) { state.firstCharts = true; performance.mark('peerchain:charts'); }
  }

  // The expected hashes behind one block of difficulty 1: the genesis block's chain work
  // over its difficulty (the work of a block is proportional to its difficulty).
  async function genesisWork() {
    try {
      const g = await get('/blocks/0');
      const work = Number(BigInt('0x' + g.chainwork));
      return g.difficulty > 0 ? work / g.difficulty : work;
    } catch (e) {
      return 0;
    }
  }

  function hashRates(blocks) {
    const out = [];
    const per = state.workPerDifficulty || 0;
    for (let i = 1; i < blocks.length; i++) {
      const start = Math.max(0, i - HASHRATE_WINDOW);
      let work = 0;
      for (let j = start + 1; j <= i; j++) work += blocks[j].difficulty * per;
      const span = Math.max(1, blocks[i].time - blocks[start].time);
      out.push({ x: blocks[i].height, y: work / span });
    }
    return out;
  }

  function intervals(blocks) {
    const out = [];
    for (let i = 1; i < blocks.length; i++) {
      out.push({ x: blocks[i].height, y: blocks[i].time - blocks[i - 1].time });
    }
    return out;
  }

  // A small chart: a line (hash rate) or bars (intervals), drawn in SVG by hand once the
  // card is on the page and its width is known.
  function chart(title, points, kind, format) {
    const box = h('div', { class: 'card chart' }, h('div', { class: 'title' }, title));
    if (points.length < 1) {
      appendKids(box, [h('p', { class: 'muted' }, 'Not enough blocks yet.')]);
      return box;
    }
    box.draw = () => drawChart(box, points, kind, format, title);
    return box;
  }

  function drawChart(box, points, kind, format, title) {
    const width = Math.max(240, box.clientWidth - 28);
    const height = 140;
    const left = 58, right = 6, top = 8, bottom = 18;
    const s = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': title });
    const max = Math.max(1e-9, ...points.map((p) => Math.max(0, p.y)));
    const plotW = width - left - right, plotH = height - top - bottom;
    const xAt = (i) => left + (points.length === 1 ? plotW / 2 : (i * plotW) / (points.length - 1));
    const yAt = (v) => top + plotH - (Math.max(0, v) / max) * plotH;
    for (const f of [0, 0.5, 1]) {
      const y = top + plotH - f * plotH;
      s.append(svg('line', { class: 'grid', x1: left, x2: width - right, y1: y, y2: y }));
      s.append(svg('text', { class: 'axis', x: left - 6, y: y + 3, 'text-anchor': 'end' }, format(max * f)));
    }
    if (kind === 'bars') {
      const step = plotW / points.length;
      const bw = Math.max(1, step - 1);
      points.forEach((p, i) => {
        const y = yAt(p.y);
        s.append(svg('rect', { class: 'ibar', x: (left + i * step).toFixed(1), y: y.toFixed(1), width: bw.toFixed(1),
                               height: Math.max(0, top + plotH - y).toFixed(1) },
                     svg('title', null, `block ${p.x}: ${p.y} s`)));
      });
    } else {
      const d = points.map((p, i) => (i ? 'L' : 'M') + xAt(i).toFixed(1) + ' ' + yAt(p.y).toFixed(1)).join(' ');
      s.append(svg('path', { class: 'line', d }));
    }
    s.append(svg('text', { class: 'axis', x: left, y: height - 3 }, 'block ' + points[0].x));
    s.append(svg('text', { class: 'axis', x: width - right, y: height - 3, 'text-anchor': 'end' },
                 'block ' + points[points.length - 1].x));
    const old = box.querySelector('svg');
    if (old) old.replaceWith(s); else box.append(s);
  }

  function stat(label, value, id) {
    return h('div', { class: 'stat' }, h('div', { class: 'label' }, label),
             h('div', { class: 'value', id }, value));
  }

  function renderHome() {
    const st = state.status;
    if (!st) return;
    const blocks = state.blocks;
    const rates = hashRates(blocks);
    const latestRate = rates.length ? rates[rates.length - 1].y : NaN;
    const gaps = intervals(blocks);
    const avgGap = gaps.length ? gaps.reduce((a, p) => a + p.y, 0) / gaps.length : NaN;
    const listed = blocks.slice(-LIST).reverse();
    const rows = listed.map((b) => h('tr', { 'data-hash': b.hash, class: state.fresh.has(b.hash) ? 'new' : null },
      h('td', { class: 'num' }, link('block', b.height, num(b.height))),
      h('td', null, hashLink('block', b.hash)),
      h('td', null, when(b.time)),
      h('td', { class: 'num' }, b.txCount === undefined ? '?' : num(b.txCount)),
      h('td', { class: 'num hide-phone' }, b.size === undefined ? '?' : num(b.size))));
    state.fresh.clear();
    show(
      h('h1', null, 'Chain'),
      h('div', { class: 'stats' },
        stat('Height', num(st.height), 'tip-height'),
        stat('Difficulty', typeof st.difficulty === 'number' ? st.difficulty.toPrecision(4) : '?'),
        stat('Hash rate (est.)', rate(latestRate), 'hashrate'),
        stat('Avg. block interval', Number.isFinite(avgGap) ? avgGap.toFixed(1) + ' s' : '–'),
        stat('Mempool', state.mempool ? num(state.mempool.size) + ' tx' : '…', 'mempool-size'),
        stat('Peers', num(st.peers), 'peer-count')),
      h('p', { class: 'muted' }, 'Tip ', hashLink('block', st.tipHash)),
      h('div', { class: 'charts' },
        chart(`Network hash rate (over ${HASHRATE_WINDOW} blocks)`, rates, 'line', (v) => (v > 0 ? rate(v) : '0')),
        chart('Block interval (s)', gaps, 'bars', (v) => v.toFixed(v < 10 ? 1 : 0))),
      h('h2', null, 'Recent blocks'),
      blocks.length ? table([['Height', { class: 'num' }], 'Hash', 'Time', ['Txs', { class: 'num' }],
                             ['Size', { class: 'num hide-phone' }]], rows, 'blocks')
                    : h('p', { class: 'muted' }, 'Loading blocks…'));
    main.querySelectorAll('.chart').forEach((box) => box.draw && box.draw());
  }

  // --- block, transaction, address, mempool, peers ------------------------------------

  function txBlock(tx, opts) {
    const inputs = tx.coinbase
      ? [h('li', null, 'Coinbase: new coins and fees')]
      : tx.inputs.map((i) => h('li', null,
          link('tx', i.txid, [h('span', { class: 'hash short' }, i.txid), ':' + i.index]),
          i.address ? [' ', link('address', i.address, i.address, 'hash short')] : null,
          typeof i.amount === 'number' ? [' ', amount(i.amount)] : null));
    const outputs = tx.outputs.map((o, n) => h('li', null, '#' + n + ' ',
      link('address', o.address, o.address, 'hash short'), ' ', amount(o.amount)));
    return h('div', { class: 'tx' },
      opts.title ? h('div', null, link('tx', tx.txid, tx.txid, 'hash'), tx.coinbase ? h('span', { class: 'muted' }, ' coinbase') : null) : null,
      h('div', { class: 'io' },
        h('div', null, h('div', { class: 'muted' }, 'Inputs'), h('ul', null, inputs)),
        h('div', null, h('div', { class: 'muted' }, 'Outputs'), h('ul', null, outputs))),
      h('div', { class: 'muted' }, 'Total out ', amount(tx.outputTotal),
        tx.coinbase ? null : [' · fee ', typeof tx.fee === 'number' ? amount(tx.fee) : 'see the transaction'],
        ' · ', num(tx.size), ' bytes'),
      tx.data ? [h('div', { class: 'muted' }, 'Data'), payload(tx.data)] : null);
  }

  async function renderBlock(id, seq) {
    if (!/^(\d{1,10}|[0-9a-fA-F]{64})$/.test(id)) return show(errorBox('Not a block height or hash: ' + id));
    const b = await get('/blocks/' + encodeURIComponent(id));
    if (seq !== renderSeq) return;
    const offChain = b.confirmations === 0;
    show(
      h('h1', null, 'Block ' + num(b.index)),
      offChain ? h('div', { class: 'notice', id: 'offchain' },
        'Not in the active chain: this block was taken off by a reorganisation (or lost a race at its height). ' +
        'Its transactions count only where the active chain has them too.') : null,
      h('div', { class: 'card' }, fields([
        ['Hash', h('span', { class: 'hash' }, b.hash)],
        ['Previous', b.index > 0 ? link('block', b.previousHash, b.previousHash, 'hash') : '—'],
        ['Height', num(b.index)],
        ['Confirmations', offChain ? h('span', { id: 'confirmations' }, '0 (not in the active chain)')
                                   : h('span', { id: 'confirmations' }, num(b.confirmations))],
        ['Time', utc(b.timestamp) + ' (' + ago(b.timestamp) + ')'],
        ['Transactions', num(b.transactions.length)],
        ['Size', num(b.size) + ' bytes'],
        ['Difficulty', String(b.difficulty)],
        ['Bits', h('span', { class: 'hash' }, b.bits)],
        ['Nonce', num(b.nonce)],
        ['Version', String(b.version)],
        ['Merkle root', h('span', { class: 'hash' }, b.merkleRoot)],
        b.chainwork ? ['Chain work', h('span', { class: 'hash' }, b.chainwork)] : null,
        !offChain && b.confirmations > 1 ? ['Next', link('block', b.index + 1, 'block ' + num(b.index + 1))] : null,
      ])),
      b.data ? [h('h2', null, 'Data'), payload(b.data)] : null,
      h('h2', null, 'Transactions'),
      h('div', { class: 'card' }, b.transactions.map((tx) => txBlock(tx, { title: true }))));
  }

  async function renderTx(txid, seq) {
    if (!/^[0-9a-fA-F]{64}$/.test(txid)) return show(errorBox('A txid is 64 hex digits.'));
    const tx = await get('/transactions/' + txid);
    if (seq !== renderSeq) return;
    const where = tx.inMempool
      ? h('span', { id: 'tx-status' }, 'Unconfirmed: in the memory pool since ' + utc(tx.time))
      : h('span', { id: 'tx-status', class: 'ok' }, num(tx.confirmations) + (tx.confirmations === 1 ? ' confirmation' : ' confirmations'));
    show(
      h('h1', null, 'Transaction'),
      h('p', { class: 'hash', id: 'txid' }, tx.txid),
      h('div', { class: 'card' }, fields([
        ['Status', where],
        tx.inMempool ? null : ['Block', [link('block', tx.blockHash, 'block ' + num(tx.blockHeight)), ' (position ' + tx.position + ')']],
        ['Fee', tx.coinbase ? '— (coinbase)' : [amount(tx.fee), ' (' + (tx.size ? (tx.fee / tx.size).toFixed(2) : '?') + ' units/byte)']],
        tx.coinbase ? null : ['Input total', amount(tx.inputTotal)],
        ['Output total', amount(tx.outputTotal)],
        ['Size', num(tx.size) + ' bytes'],
        ['Lock time', num(tx.lockTime)],
        ['Version', String(tx.version)],
      ])),
      tx.data ? [h('h2', null, 'Data'), payload(tx.data),
                 h('p', { class: 'muted hash' }, 'hex: ', h('span', { class: 'payload' }, tx.dataHex))] : null,
      h('h2', null, 'Inputs and outputs'),
      h('div', { class: 'card' }, txBlock(tx, { title: false })));
  }

  async function renderAddress(address, seq) {
    if (address.length > 200) return show(errorBox('Not an address.'));
    const a = await get('/address/' + encodeURIComponent(address) + '?limit=100');
    if (seq !== renderSeq) return;
    const utxoRows = a.utxos.map((u) => h('tr', null,
      h('td', null, link('tx', u.txid, [h('span', { class: 'hash short' }, u.txid), ':' + u.index])),
      h('td', { class: 'num' }, coins(u.amount)),
      h('td', { class: 'num' }, link('block', u.height, num(u.height))),
      h('td', null, u.coinbase ? (u.mature ? 'coinbase' : 'coinbase, immature') : '')));
    const txRows = a.transactions.map((t) => h('tr', null,
      h('td', null, hashLink('tx', t.txid)),
      h('td', { class: 'num' }, link('block', t.blockHash, num(t.height))),
      h('td', { class: 'num' }, coins(t.received)),
      h('td', { class: 'num' }, coins(t.sent))));
    const poolRows = (a.mempoolTransactions || []).map((t) => h('tr', null,
      h('td', null, hashLink('tx', t.txid)),
      h('td', { class: 'num' }, coins(t.received)),
      h('td', { class: 'num' }, coins(t.sent))));
    show(
      h('h1', null, 'Address'),
      h('p', { class: 'hash' }, a.address),
      h('div', { class: 'stats' },
        stat('Balance', coins(a.balance) + ' coins', 'balance'),
        stat('Immature', coins(a.immature) + ' coins'),
        stat('Pending', coins(a.pending) + ' coins', 'pending'),
        stat('Coins (outputs)', num(a.utxoCount))),
      h('h2', null, 'Coins'),
      utxoRows.length ? table(['Output', ['Amount (coins)', { class: 'num' }], ['Height', { class: 'num' }], ''], utxoRows, 'utxos')
                      : h('p', { class: 'muted' }, 'No unspent outputs.'),
      a.utxoCount > a.utxos.length ? h('p', { class: 'muted' }, 'Showing ' + a.utxos.length + ' of ' + num(a.utxoCount) + '.') : null,
      poolRows.length ? [h('h2', null, 'Unconfirmed'),
        table(['Txid', ['Received', { class: 'num' }], ['Sent', { class: 'num' }]], poolRows, 'address-mempool')] : null,
      h('h2', null, 'History'),
      txRows.length ? table(['Txid', ['Height', { class: 'num' }], ['Received', { class: 'num' }], ['Sent', { class: 'num' }]], txRows, 'history')
                    : h('p', { class: 'muted' }, 'No transactions in the active chain.'));
  }

  async function renderMempool(seq) {
    const [info, list] = await Promise.all([get('/mempool/info'), get('/mempool?limit=100')]);
    if (seq !== renderSeq) return;
    state.mempool = info;
    const rows = list.map((t) => h('tr', null,
      h('td', null, hashLink('tx', t.txid)),
      h('td', { class: 'num' }, coins(t.fee)),
      h('td', { class: 'num' }, num(t.feeRate)),
      h('td', { class: 'num' }, num(t.size)),
      h('td', { class: 'hide-phone' }, when(t.time))));
    show(
      h('h1', null, 'Mempool'),
      h('div', { class: 'stats' },
        stat('Transactions', num(info.size), 'mempool-count'),
        stat('Bytes', num(info.bytes)),
        stat('Min. fee rate', num(info.minFeeRate) + ' units/byte')),
      h('h2', null, 'Highest fee rate first'),
      rows.length ? table(['Txid', ['Fee (coins)', { class: 'num' }], ['Rate', { class: 'num' }], ['Size', { class: 'num' }],
                           ['Since', { class: 'hide-phone' }]], rows, 'mempool')
                  : h('p', { class: 'muted' }, 'The memory pool is empty.'),
      list.length < info.size ? h('p', { class: 'muted' }, 'Showing ' + list.length + ' of ' + num(info.size) + '.') : null);
  }

  async function renderPeers(seq) {
    const peers = await get('/peers');
    if (seq !== renderSeq) return;
    const rows = peers.map((p) => h('tr', null,
      h('td', { class: 'hash' }, p.address),
      h('td', null, p.direction),
      h('td', null, p.transport),
      h('td', { class: 'num' }, typeof p.pingMs === 'number' ? p.pingMs + ' ms' : '–'),
      h('td', { class: 'num' }, num(Math.max(p.startHeight || 0, typeof p.syncedHeight === 'number' ? p.syncedHeight : 0))),
      h('td', { class: 'hide-phone' }, p.userAgent),
      h('td', { class: 'hide-phone' }, when(p.connectedSince))));
    show(
      h('h1', null, 'Peers (' + peers.length + ')'),
      rows.length ? table(['Address', 'Direction', 'Transport', ['Ping', { class: 'num' }], ['Height', { class: 'num' }],
                           ['Agent', { class: 'hide-phone' }], ['Since', { class: 'hide-phone' }]], rows, 'peers')
                  : h('p', { class: 'muted' }, 'No peers connected.'));
  }

  // --- routing and search -------------------------------------------------------------

  function route() {
    const parts = location.hash.replace(/^#\/?/, '').split('/');
    let arg = '';
    try { arg = decodeURIComponent(parts.slice(1).join('/')); } catch (e) { arg = ''; }
    return { name: parts[0] || 'home', arg };
  }

  function isHome() {
    return route().name === 'home';
  }

  async function render() {
    const seq = ++renderSeq;
    const r = route();
    try {
      switch (r.name) {
        case 'home': if (state.status) renderHome(); await loadHome(); break;
        case 'block': await renderBlock(r.arg, seq); break;
        case 'tx': await renderTx(r.arg, seq); break;
        case 'address': await renderAddress(r.arg, seq); break;
        case 'mempool': await renderMempool(seq); break;
        case 'peers': await renderPeers(seq); break;
        default: show(errorBox('No such page.'));
      }
    } catch (e) {
      if (seq !== renderSeq) return;
      show(h('h1', null, 'Not found'), errorBox(e instanceof ApiError ? e.message : 'The node could not be reached.'));
    }
  }

  async function search(query) {
    const q = query.trim();
    const note = (text) => show(h('h1', null, 'Search'), errorBox(text));
    if (/^\d{1,10}$/.test(q)) { location.hash = '#/block/' + q; return; }
    if (/^[0-9a-fA-F]{64}$/.test(q)) {
      for (const [path, routeName] of [['/blocks/', 'block'], ['/transactions/', 'tx']]) {
        try {
          await api(path + q);
          location.hash = '#/' + routeName + '/' + q.toLowerCase();
          return;
        } catch (e) {
          if (!(e instanceof ApiError) || e.status !== 404) return note('The node could not be reached.');
        }
      }
      return note('No block or transaction ' + q + ' on this node.');
    }
    if (/^[a-z]{1,83}1[02-9ac-hj-np-z]{6,}$/i.test(q)) { location.hash = '#/address/' + encodeURIComponent(q.toLowerCase()); return; }
    note('Search takes a block height, a block hash, a txid or an address.');
  }

  // --- live updates: the event stream, or polling --------------------------------------

  const live = document.getElementById('live');
  let source = null;
  let refreshTimer = null;

  function setLive(mode) {
    live.className = 'live ' + mode;
    live.textContent = { on: 'live', quiet: 'live (syncing)', poll: 'polling' }[mode] || 'offline';
  }

  function setNetwork(name) {
    document.getElementById('network').textContent = name || '';
  }

  // Many events in a burst (a sync, 100 blocks mined at once) make one refresh.
  function scheduleRefresh(delay) {
    if (refreshTimer !== null) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      const r = route().name;
      if (r === 'home') loadHome().catch(() => {});
      else if (r === 'mempool' || r === 'peers' || r === 'block' || r === 'tx' || r === 'address') render();
    }, delay);
  }

  // A sync delivers hundreds of blocks a second: the home view redraws at most ten times
  // a second, not once per block.
  let homeTimer = null;
  function renderHomeSoon() {
    if (homeTimer !== null) return;
    homeTimer = setTimeout(() => { homeTimer = null; if (isHome()) renderHome(); }, 100);
  }

  function onBlock(ev) {
    if (typeof ev.height !== 'number' || typeof ev.hash !== 'string') return;
    if (state.status) {
      state.status.height = ev.height;
      state.status.tipHash = ev.hash;
    }
    const last = state.blocks[state.blocks.length - 1];
    if (!last || ev.height === last.height + 1) {
      state.blocks.push({ height: ev.height, hash: ev.hash, time: ev.time, txCount: ev.txCount,
                          size: ev.size, difficulty: last ? last.difficulty : 1 });
      if (state.blocks.length > RECENT) state.blocks.shift();
      state.fresh.add(ev.hash);
      if (isHome()) renderHomeSoon();
    }
    scheduleRefresh(isHome() ? 400 : 1000);
  }

  let lastSyncEvent = 0;

  function onSyncEvent(ev) {
    lastSyncEvent = Date.now();
    onSync(ev);
  }

  let syncShown = null;

  // Between sync events the bar follows the block events.
  function syncFollowsBlock(height) {
    if (!syncShown || height <= syncShown.blocksHeight) return;
    const headers = Math.max(syncShown.headersHeight, height);
    const speed = Number(syncShown.blocksPerSecond) || 0;
    onSync(Object.assign({}, syncShown, { blocksHeight: height, headersHeight: headers,
                                         progress: headers > 0 ? height / headers : 1,
                                         etaSeconds: speed > 0 ? (headers - height) / speed : null }));
  }

  function onSync(ev) {
    const box = document.getElementById('sync');
    if (!ev.syncing) {
      syncShown = null;
      box.hidden = true;
      return;
    }
    syncShown = ev;
    box.hidden = false;
    const p = Math.max(0, Math.min(1, Number(ev.progress) || 0));
    document.getElementById('sync-fill').style.width = (p * 100).toFixed(1) + '%';
    const speed = Number(ev.blocksPerSecond) > 0 ? ', ' + Number(ev.blocksPerSecond).toFixed(1) + ' blocks/s' : '';
    const eta = typeof ev.etaSeconds === 'number' && ev.etaSeconds > 0 ? ', about ' + Math.ceil(ev.etaSeconds) + ' s left' : '';
    document.getElementById('sync-text').textContent =
      'Syncing: block ' + num(ev.blocksHeight) + ' of ' + num(ev.headersHeight) + ' (' + (p * 100).toFixed(1) + '%)' +
      speed + eta;
  }

  // /status shows a sync too (the stream's sync events come every 5 s); a recent event,
  // which also knows the speed, wins.
  function showSyncFromStatus(st) {
    if (Date.now() - lastSyncEvent < 10000) return;
    if (typeof st.bestHeaderHeight === 'number' && st.bestHeaderHeight > st.height + 1) {
      onSync({ syncing: true, blocksHeight: st.height, headersHeight: st.bestHeaderHeight,
               progress: st.height / st.bestHeaderHeight, blocksPerSecond: null, etaSeconds: null });
    } else {
      onSync({ syncing: false });
    }
  }

  function handler(fn) {
    return (e) => {
      let data;
      try { data = JSON.parse(e.data); } catch (err) { return; }
      if (data && typeof data === 'object') fn(data);
    };
  }

  // During a sync the node connects thousands of blocks a second: one event each would keep
  // the page too busy to draw. When block events come faster than BURST a second, or a
  // sync event says the node is behind, the page follows the stream without block events
  // and reads /status every POLL_MS instead, until the node has caught up.
  const BURST = 200;
  const ALL_TYPES = 'block,reorg,tx,peer,sync';
  const QUIET_TYPES = 'reorg,tx,peer,sync';
  let quiet = false;
  let burstStart = 0;
  let burstCount = 0;

  function setQuiet(on) {
    if (quiet === on) return;
    quiet = on;
    if (source) source.close();
    source = null;
    openStream();
    state.blocks = [];
    scheduleRefresh(100);
  }

  function countBlockEvent() {
    const now = Date.now();
    if (now - burstStart > 1000) { burstStart = now; burstCount = 0; }
    if (++burstCount > BURST) setQuiet(true);
  }

  function openStream() {
    if (typeof EventSource !== 'function' || source) return;
    // tx-confirmed is left out: a sync would send one per transaction, and the block event
    // that comes with them already refreshes the page.
    const es = new EventSource('/events?types=' + (quiet ? QUIET_TYPES : ALL_TYPES));
    source = es;
    const on = (type, fn) => es.addEventListener(type, (e) => { if (source === es) fn(e); });
    on('open', () => setLive(quiet ? 'quiet' : 'on'));
    on('block', handler((ev) => { countBlockEvent(); if (!quiet) onBlock(ev); }));
    on('reorg', handler(() => { state.blocks = []; scheduleRefresh(100); }));
    on('tx', handler(() => {
      if (state.mempool) state.mempool.size += 1;
      const r = route().name;
      if (r === 'home' || r === 'mempool' || r === 'address') scheduleRefresh(800);
    }));
    on('peer', handler(() => {
      const r = route().name;
      if (r === 'peers' || r === 'home') scheduleRefresh(300);
    }));
    on('sync', handler((ev) => { onSyncEvent(ev); setQuiet(Boolean(ev.syncing)); }));
    // Events were missed (the node restarted, or this page fell behind): reload it all.
    on('reset', handler(() => { state.blocks = []; scheduleRefresh(100); }));
    on('error', () => {
      // CONNECTING: the browser retries by itself (the stream's retry: 2000); CLOSED: the
      // node refused the stream (an older node without /events): poll, try again later.
      if (es.readyState === EventSource.CLOSED) {
        source = null;
        setTimeout(openStream, 30000);
      }
      setLive('poll');
    });
  }

  // While the stream is not open, or is quiet, poll /status and refresh when the tip moves.
  let caughtUpPolls = 0;
  async function poll() {
    if (source && source.readyState === EventSource.OPEN && !quiet) return;
    try {
      const st = await get('/status');
      setLive(quiet && source && source.readyState === EventSource.OPEN ? 'quiet' : 'poll');
      const moved = !state.status || st.tipHash !== state.status.tipHash;
      state.status = Object.assign(state.status || {}, st);
      showSyncFromStatus(st);
      syncFollowsBlock(st.height);
      if (moved) scheduleRefresh(0);
      // Two polls in a row at the best header: back to every block event.
      caughtUpPolls = st.bestHeaderHeight <= st.height + 1 && !moved ? caughtUpPolls + 1 : 0;
      if (quiet && caughtUpPolls >= 2) setQuiet(false);
    } catch (e) {
      setLive('off');
    }
  }

  document.getElementById('search').addEventListener('submit', (e) => {
    e.preventDefault();
    search(document.getElementById('search-input').value);
  });
  window.addEventListener('hashchange', render);
  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (isHome()) renderHome(); }, 200);
  });
  if (!isHome()) get('/status').then((st) => setNetwork(st.network)).catch(() => {});
  setInterval(poll, POLL_MS);
  setInterval(() => { if (isHome() && state.status) renderHome(); }, 15000);  // "n s ago"
  openStream();
  render();
})();

// The spacetime block explorer: heights, tipsets, blocks, messages and miners, read from the
// daemon's JSON-RPC (/rpc/v1, read-only methods, no token), the same calls the CLI makes.
'use strict';

// ---- words: English and Chinese (the seed's words where it has them) ----
const WORDS = {
  en: {
    search: 'Search', placeholder: 'height, CID or address', heights: 'Latest heights', height: 'Height', time: 'Time',
    blocks: 'Blocks', miners: 'Miners', nullRound: 'null round (no block)', tipset: 'Tipset at height', block: 'Block',
    message: 'Message', miner: 'Miner', parents: 'Parents', weight: 'Parent weight', stateRoot: 'Parent state root',
    ticket: 'Ticket', winCount: 'Win count', messages: 'Messages', from: 'From', to: 'To', value: 'Value', method: 'Method',
    params: 'Parameters', exitCode: 'Exit code', gasUsed: 'Gas used', fee: 'Fee', receivedBy: 'Fee received by the miner of block',
    notOnChain: 'Not on chain yet (in the message pool)', rawPower: 'Raw byte power', qaPower: 'Quality-adjusted power',
    share: 'share', committed: 'Committed sectors', proving: 'Proving sectors', faulty: 'Faulty sectors', deadlines: 'Deadlines',
    deadline: 'deadline', sectors: 'sectors', partitions: 'partitions', proven: 'proven', current: 'current',
    recentBlocks: 'Blocks won recently (last 100 heights)', none: 'none', refresh: 'Refreshes every 2 s.', balance: 'Balance',
    actor: 'Actor', kind: 'Kind', nonce: 'Nonce', includedAt: 'Included at height', skipped: 'skipped', sector: 'Sector',
    partitionsProven: 'Partitions', timestamp: 'Timestamp', head: 'head',
    network: 'The network', totalRaw: 'Total raw byte power', totalQa: 'Total quality-adjusted power', baseFee: 'Base fee',
    recentMessages: 'Messages in the last 15 heights', latestMessages: 'Latest messages', minerMessages: 'Messages (last 100 heights)',
    all: 'all methods', filter: 'Method', powerChart: 'Power over time (raw bytes)', sectorsChart: 'Proven and faulty sectors over time',
    blocksChart: 'Blocks won per hour (last 100 heights)', thisPeriod: 'this period', lastPeriod: 'last period',
    notDue: 'not due yet', open: 'open', missed: 'missed',
  },
  zh: {
    search: '搜索', placeholder: '高度、CID 或地址', heights: '最新高度', height: '高度', time: '时间', blocks: '块数', miners: '矿工',
    nullRound: '空轮次（无块）', tipset: '高度上的 tipset', block: '块', message: '消息', miner: '矿工', parents: '父块',
    weight: '父权重', stateRoot: '父状态根', ticket: '票据', winCount: '获胜次数', messages: '消息', from: '发送方', to: '接收方',
    value: '金额', method: '方法', params: '参数', exitCode: '退出码', gasUsed: '消耗的 Gas', fee: '手续费',
    receivedBy: '手续费归打包该消息的块的矿工', notOnChain: '尚未上链（在消息池中）', rawPower: '原值算力', qaPower: '有效算力',
    share: '占全网', committed: '已上链的 sector', proving: '在证明的 sector', faulty: '出错的 sector', deadlines: '证明窗口',
    deadline: '窗口', sectors: 'sector 数', partitions: 'partition 数', proven: '已证明', current: '当前',
    recentBlocks: '最近出的块（最近 100 个高度）', none: '无', refresh: '每 2 秒刷新。', balance: '余额', actor: '账户',
    kind: '类型', nonce: 'Nonce', includedAt: '上链高度', skipped: '跳过', sector: 'Sector', partitionsProven: 'Partitions',
    timestamp: '时间戳', head: '链头',
    network: '全网概览', totalRaw: '全网原值算力', totalQa: '全网有效算力', baseFee: '基础费率', recentMessages: '最近 15 个高度的消息数',
    latestMessages: '最新消息', minerMessages: '消息（最近 100 个高度）', all: '全部方法', filter: '方法',
    powerChart: '算力变化（原值）', sectorsChart: '在证明与出错的 sector 数变化', blocksChart: '每小时出块数（最近 100 个高度）',
    thisPeriod: '本周期', lastPeriod: '上周期', notDue: '未到期', open: '进行中', missed: '未证明',
  },
};
// method names by actor kind: English (Filecoin's) and Chinese (the seed's: 提交时空证明, 数据提交证明)
const METHODS = {
  '*': { 0: ['Send', '转账'] },
  account: { 2: ['PubkeyAddress', '公钥地址'] },
  storagepower: { 2: ['CreateMiner', '创建矿工'] },
  storageminer: {
    2: ['ControlAddresses', '控制地址'], 3: ['ChangeWorkerAddress', '更换 Worker 地址'], 5: ['SubmitWindowedPoSt', '提交时空证明'],
    6: ['PreCommitSector', '预提交 sector'], 7: ['ProveCommitSector', '数据提交证明'], 10: ['DeclareFaults', '声明错误'],
    11: ['DeclareFaultsRecovered', '声明错误已恢复'], 16: ['WithdrawBalance', '提取余额'], 18: ['ChangeMultiaddrs', '更换交易地址'],
  },
  storagemarket: {
    2: ['AddBalance', '充值托管'], 3: ['WithdrawBalance', '提取托管'], 4: ['PublishStorageDeals', '发布存储订单'],
  },
  verifiedregistry: {
    2: ['AddVerifier', '添加公证人'], 3: ['RemoveVerifier', '移除公证人'], 4: ['AddVerifiedClient', '分配 DataCap'],
  },
};

let lang = localStorage.getItem('spacetime-lang') === 'zh' ? 'zh' : 'en';
const w = (k) => WORDS[lang][k] || k;
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

// ---- the daemon's API ----
async function rpc(method, params = []) {
  const r = await fetch('/rpc/v1', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'Filecoin.' + method, params }) });
  let j;
  try { j = await r.json(); } catch (e) { throw new Error(`${method}: the daemon answered HTTP ${r.status}`); }
  if (j.error) throw new Error(`${method}: ${j.error.message}`);
  return j.result;
}
const cidOf = (c) => (c && c['/']) || String(c);

// The actor kind behind a code CID: an identity CID of "fil/1/<kind>", base32 after the 'b'.
function kindOfCode(code) {
  const s = cidOf(code).slice(1), A = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0, acc = 0; const out = [];
  for (const ch of s) { acc = (acc << 5) | A.indexOf(ch); bits += 5; if (bits >= 8) { bits -= 8; out.push((acc >> bits) & 255); } }
  const name = String.fromCharCode(...out.slice(4));
  return name.startsWith('fil/1/') ? name.slice(6) : '?';
}
const kinds = new Map();
async function kindOf(addr) {
  if (!kinds.has(addr)) kinds.set(addr, rpc('StateGetActor', [addr, null]).then((a) => kindOfCode(a.Code), () => '?'));
  return kinds.get(addr);
}
async function methodName(to, m) {
  const k = await kindOf(to), n = (METHODS[k] && METHODS[k][m]) || METHODS['*'][m];
  return n ? `${n[0]} · <span class="zh">${n[1]}</span>` : `method ${m}`;
}

// ---- formatting ----
function fil(atto) {
  const v = BigInt(atto || '0'), neg = v < 0n, a = neg ? -v : v, whole = a / 10n ** 18n, frac = (a % 10n ** 18n).toString().padStart(18, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? '.' + frac : ''} FIL`;
}
function size(bytes) {
  let v = Number(bytes), u = 0; const U = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  while (v >= 1024 && u < U.length - 1) { v /= 1024; u++; }
  return `${+v.toPrecision(3)} ${U[u]}`;
}
const pct = (a, b) => (BigInt(b || '0') > 0n ? (Number((BigInt(a) * 1000000n) / BigInt(b)) / 10000).toFixed(2) + '%' : '0%');
const when = (ts) => new Date(ts * 1000).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB');
const count = (runs) => (runs || []).reduce((n, r, i) => n + (i % 2 ? r : 0), 0); // Lotus's run-length bitfield JSON
function members(runs) {
  const out = []; let at = 0;
  (runs || []).forEach((r, i) => { if (i % 2) for (let k = 0; k < r; k++) out.push(at + k); at += r; });
  return out;
}
const link = (href, text, cls = '') => `<a href="${href}" class="${cls}">${esc(text)}</a>`;
const minerLink = (a) => link(`#/miner/${a}`, a);
const dl = (rows) => `<dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;

// ---- views ----
function showError(msg) { const e = $('#error'); e.textContent = msg; e.hidden = !msg; }
const view = (html) => { $('#view').innerHTML = html; };

async function head() { return rpc('ChainHead'); }

// The messages parent (child's parent tipset) executed, with receipts and fees:
// [{cid, m, r, height, fee}]. The fee is GasUsed x the price paid (the fee cap, or base fee +
// premium when less), as the message page shows it; the base fee is the one child's blocks carry.
async function executed(child, parent) {
  const b = child.Cids[0], [msgs, rcts] = [await rpc('ChainGetParentMessages', [b]), await rpc('ChainGetParentReceipts', [b])];
  const base = BigInt(child.Blocks[0].ParentBaseFee), parentHeight = parent.Height;
  return (msgs || []).map((x, i) => {
    const m = x.Message, r = rcts[i], cap = BigInt(m.GasFeeCap), price = cap < base + BigInt(m.GasPremium) ? cap : base + BigInt(m.GasPremium);
    return { cid: cidOf(x.Cid), m, r, height: parentHeight, fee: (BigInt(r.GasUsed) * price).toString() };
  });
}

// A table of executed messages; rows carry their method number for the miner page's filter.
async function executedTable(id, list, withParties) {
  const rows = [];
  for (const x of list) {
    const ok = x.r.ExitCode === 0;
    rows.push(`<tr data-method="${x.m.Method}"><td>${link(`#/height/${x.height}`, x.height)}</td><td class="mono">${link(`#/msg/${x.cid}`, x.cid.slice(-12))}</td>` +
      (withParties ? `<td>${esc(x.m.From)}</td><td>${esc(x.m.To)}</td>` : '') +
      `<td class="method">${await methodName(x.m.To, x.m.Method)}</td><td class="${ok ? 'ok' : 'bad'}">${x.r.ExitCode}</td><td>${fil(x.fee)}</td></tr>`);
  }
  return `<table id="${id}"><thead><tr><th>${w('height')}</th><th>CID</th>` + (withParties ? `<th>${w('from')}</th><th>${w('to')}</th>` : '') +
    `<th>${w('method')}</th><th>${w('exitCode')}</th><th>${w('fee')}</th></tr></thead><tbody>` +
    `${rows.join('') || `<tr><td colspan="${withParties ? 7 : 5}">${w('none')}</td></tr>`}</tbody></table>`;
}

let refresh = null;
async function home() {
  let shown = ''; // the head the table was drawn for: the 15 tipsets are read again only when it moves
  const render = async () => {
    const h = await head(), rows = [], key = h.Cids.map(cidOf).join(',');
    if (key === shown && $('#heights')) return;
    let ts = h, msgs = [];
    for (let height = h.Height; height >= 0 && height > h.Height - 15; height--) {
      if (ts.Height < height) { rows.push(`<tr class="null"><td class="height">${height}</td><td colspan="3">${w('nullRound')}</td></tr>`); continue; }
      const miners = ts.Blocks.map((b, i) => `${minerLink(b.Miner)} (${link(`#/block/${cidOf(ts.Cids[i])}`, cidOf(ts.Cids[i]).slice(-8))})`).join(', ');
      rows.push(`<tr><td class="height">${link(`#/height/${ts.Height}`, ts.Height)}</td><td>${when(ts.Blocks[0].Timestamp)}</td>` +
        `<td class="nblocks">${ts.Blocks.length}</td><td>${miners}</td></tr>`);
      if (ts.Height > 0) {
        const parent = await rpc('ChainGetTipSet', [ts.Blocks[0].Parents]);
        msgs = msgs.concat(await executed(ts, parent));
        ts = parent;
      }
    }
    const miners = (await rpc('StateListMiners', [null])) || [];
    const power = miners.length ? (await rpc('StateMinerPower', [miners[0], null])).TotalPower : { RawBytePower: '0', QualityAdjPower: '0' };
    const glance = dl([[w('height'), `<span id="net-height">${h.Height}</span>`], [w('totalRaw'), `<span id="net-raw">${size(power.RawBytePower)}</span>`],
      [w('totalQa'), `<span id="net-qa">${size(power.QualityAdjPower)}</span>`], [w('miners'), `<span id="net-miners">${miners.length}</span>`],
      [w('baseFee'), `<span id="net-basefee">${fil(h.Blocks[0].ParentBaseFee)}</span>`], [w('recentMessages'), `<span id="net-messages">${msgs.length}</span>`]]);
    const latest = await executedTable('latest', msgs.slice(0, 20), true);
    if (location.hash.replace(/^#\/?/, '') !== '') return;
    shown = key;
    view(`<h1>${w('network')}</h1>${glance}<h2>${w('heights')}</h2><p class="note">${w('refresh')}</p><table id="heights"><thead><tr><th>${w('height')}</th><th>${w('time')}</th>` +
      `<th>${w('blocks')}</th><th>${w('miners')}</th></tr></thead><tbody>${rows.join('')}</tbody></table>` +
      `<h2>${w('latestMessages')}</h2>${latest}`);
  };
  await render();
  refresh = setInterval(() => render().catch((e) => showError(e.message)), 2000);
}

async function messagesTable(blockCids) {
  const rows = [];
  for (const bc of blockCids) {
    const bm = await rpc('ChainGetBlockMessages', [{ '/': bc }]);
    const msgs = [...(bm.BlsMessages || []), ...(bm.SecpkMessages || []).map((s) => s.Message)];
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i], c = cidOf(bm.Cids[i]);
      rows.push(`<tr><td class="mono">${link(`#/msg/${c}`, c)}</td><td>${esc(m.From)}</td><td>${esc(m.To)}</td>` +
        `<td class="method">${await methodName(m.To, m.Method)}</td><td>${fil(m.Value)}</td></tr>`);
    }
  }
  return `<h2>${w('messages')} (${rows.length})</h2><table class="messages"><thead><tr><th>CID</th><th>${w('from')}</th><th>${w('to')}</th>` +
    `<th>${w('method')}</th><th>${w('value')}</th></tr></thead><tbody>${rows.join('') || `<tr><td colspan="5">${w('none')}</td></tr>`}</tbody></table>`;
}

function blockFacts(b, cid) {
  return dl([
    ['CID', `<span class="mono">${esc(cid)}</span>`], [w('height'), link(`#/height/${b.Height}`, b.Height)], [w('miner'), minerLink(b.Miner)],
    [w('timestamp'), when(b.Timestamp)], [w('parents'), b.Parents.map((p) => link(`#/block/${cidOf(p)}`, cidOf(p), 'mono')).join('<br>')],
    [w('weight'), esc(b.ParentWeight)], [w('stateRoot'), `<span class="mono">${esc(cidOf(b.ParentStateRoot))}</span>`],
    [w('ticket'), `<span class="mono">${esc((b.Ticket && b.Ticket.VRFProof) || '')}</span>`],
    [w('winCount'), `<span class="wincount">${b.ElectionProof ? b.ElectionProof.WinCount : 0}</span>`],
  ]);
}

// A height as a number the chain can have: digits only, at most the head.
async function checkHeight(text) {
  if (!/^\d+$/.test(text)) throw new Error(`"${text}" is not a height: a height is a whole number`);
  const h = await head();
  if (BigInt(text) > BigInt(h.Height)) throw new Error(`height ${text} is above the head (${h.Height})`);
  return Number(text);
}

async function tipset(text) {
  const height = await checkHeight(text), ts = await rpc('ChainGetTipSetByHeight', [height, null]);
  let html = `<h1>${w('tipset')} ${height}</h1>`;
  if (ts.Height < height) html += `<p class="note">${w('nullRound')}: ${w('height')} ${height} → ${link(`#/height/${ts.Height}`, ts.Height)}</p>`;
  ts.Blocks.forEach((b, i) => { html += `<h2>${w('block')} ${i + 1} / ${ts.Blocks.length}</h2>` + blockFacts(b, cidOf(ts.Cids[i])); });
  view(html + await messagesTable(ts.Cids.map(cidOf)));
}

async function block(cid) {
  const b = await rpc('ChainGetBlock', [{ '/': cid }]);
  view(`<h1>${w('block')}</h1>` + blockFacts(b, cid) + await messagesTable([cid]));
}

function paramsSummary(name, p) {
  if (!p) return '';
  if (name === 'SubmitWindowedPoSt')
    return dl([[w('deadline'), `<span id="post-deadline">${p.Deadline}</span>`],
      [w('partitionsProven'), p.Partitions.map((x) => `${x.Index} (${w('skipped')}: ${count(x.Skipped)})`).join(', ')]]);
  if (name === 'ProveCommitSector' || name === 'PreCommitSector') return dl([[w('sector'), `<span id="sector-number">${p.SectorNumber}</span>`]]);
  if (name === 'DeclareFaultsRecovered' || name === 'DeclareFaults')
    return dl((p.Recoveries || p.Faults).map((d) => [`${w('deadline')} ${d.Deadline} / ${d.Partition}`, members(d.Sectors).join(', ')]));
  return '';
}

async function message(cid) {
  const m = await rpc('ChainGetMessage', [{ '/': cid }]), found = await rpc('StateSearchMsg', [null, { '/': cid }, -1, true]);
  const mname = await methodName(m.To, m.Method), name = mname.split(' ')[0];
  const rows = [['CID', `<span class="mono">${esc(cid)}</span>`], [w('from'), esc(m.From)], [w('to'), minerLink(m.To)],
    [w('value'), fil(m.Value)], [w('method'), `<span class="method">${mname}</span>`], [w('nonce'), m.Nonce]];
  let decoded = null, extra = '';
  try { decoded = await rpc('StateDecodeParams', [m.To, m.Method, m.Params || null, found ? found.TipSet : null]); } catch (e) { extra = `<p class="error">${esc(e.message)}</p>`; }
  if (!found) rows.push([w('exitCode'), w('notOnChain')]);
  else {
    const ts = await rpc('ChainGetTipSet', [found.TipSet]), base = BigInt(ts.Blocks[0].ParentBaseFee);
    const price = BigInt(m.GasFeeCap) < base + BigInt(m.GasPremium) ? BigInt(m.GasFeeCap) : base + BigInt(m.GasPremium);
    let by = null;
    for (let i = 0; i < ts.Cids.length && !by; i++) {
      const bm = await rpc('ChainGetBlockMessages', [ts.Cids[i]]);
      if (bm.Cids.some((c) => cidOf(c) === cid)) by = [ts.Blocks[i].Miner, cidOf(ts.Cids[i])];
    }
    const ok = found.Receipt.ExitCode === 0;
    rows.push([w('includedAt'), link(`#/height/${found.Height}`, found.Height)],
      [w('exitCode'), `<span class="${ok ? 'ok' : 'bad'}" id="exit-code">${found.Receipt.ExitCode}</span>`], [w('gasUsed'), found.Receipt.GasUsed],
      [w('fee'), fil((BigInt(found.Receipt.GasUsed) * price).toString())]);
    if (by) rows.push([w('receivedBy'), `${minerLink(by[0])} (${link(`#/block/${by[1]}`, by[1].slice(-8))})`]);
  }
  view(`<h1>${w('message')}</h1>` + dl(rows) + `<h2>${w('params')}</h2>` + paramsSummary(name, decoded) + extra +
    `<pre id="params" class="mono">${esc(JSON.stringify(decoded, null, 2))}</pre>`);
}

// ---- charts: SVG drawn here, nothing fetched ----
// Lines over x (heights): series [{name, color, points: [[x, y], ...]}]; y from 0.
function svgLines(id, series, fmtY) {
  const W = 640, H = 180, L = 70, B = 24, xs = series.flatMap((s) => s.points.map((p) => p[0])), ys = series.flatMap((s) => s.points.map((p) => p[1]));
  if (!xs.length) return `<p class="note">${w('none')}</p>`;
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1), y1 = Math.max(...ys, 1);
  const X = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - 10), Y = (y) => H - B - (y / y1) * (H - B - 10);
  const lines = series.map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ')}"/>`).join('');
  const legend = series.map((s, i) => `<text x="${L + 10 + i * 160}" y="14" fill="${s.color}">■ ${esc(s.name)}</text>`).join('');
  return `<svg id="${id}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" style="background:#fff">` +
    `<line x1="${L}" y1="${H - B}" x2="${W - 10}" y2="${H - B}" stroke="#8a93a3"/><line x1="${L}" y1="10" x2="${L}" y2="${H - B}" stroke="#8a93a3"/>` +
    `<text x="${L - 6}" y="16" text-anchor="end" font-size="11">${esc(fmtY(y1))}</text><text x="${L - 6}" y="${H - B}" text-anchor="end" font-size="11">0</text>` +
    `<text x="${L}" y="${H - 6}" font-size="11">${x0}</text><text x="${W - 10}" y="${H - 6}" text-anchor="end" font-size="11">${x1}</text>${lines}${legend}</svg>`;
}
// Bars: [[label, value], ...].
function svgBars(id, bars) {
  if (!bars.length) return `<p class="note">${w('none')}</p>`;
  const W = 640, H = 160, B = 24, bw = Math.min(60, (W - 20) / bars.length - 6), top = Math.max(...bars.map((b) => b[1]), 1);
  return `<svg id="${id}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" style="background:#fff">` + bars.map(([label, v], i) => {
    const h = (v / top) * (H - B - 20), x = 10 + i * (bw + 6);
    return `<rect x="${x}" y="${H - B - h}" width="${bw}" height="${h}" fill="#3b82f6"><title>${esc(label)}: ${v}</title></rect>` +
      `<text x="${x + bw / 2}" y="${H - B - h - 4}" text-anchor="middle" font-size="11">${v}</text>` +
      `<text x="${x + bw / 2}" y="${H - 8}" text-anchor="middle" font-size="10">${esc(label)}</text>`;
  }).join('') + '</svg>';
}

// The miner's power and sector counts at up to 24 heights spread over the chain so far.
async function minerHistory(addr, headHeight) {
  const step = Math.max(1, Math.ceil(headHeight / 24)), raw = [], proven = [], faulty = [];
  for (let h = headHeight % step; h <= headHeight; h += step) {
    const ts = await rpc('ChainGetTipSetByHeight', [h, null]);
    const [p, c] = await Promise.all([rpc('StateMinerPower', [addr, ts.Cids]).catch(() => null), rpc('StateMinerSectorCount', [addr, ts.Cids]).catch(() => null)]);
    if (!p || !c) continue; // before the miner existed
    raw.push([ts.Height, Number(p.MinerPower.RawBytePower)]);
    proven.push([ts.Height, c.Live - c.Faulty]);
    faulty.push([ts.Height, c.Faulty]);
  }
  return { raw, proven, faulty };
}

// Whether deadline d was proven in the window that closes at close. The chain clears the PoSt
// submissions in the window's last epoch and faults every sector of a partition not proven, so:
// proven when no sector of the deadline is faulty just after, or when the submissions one epoch
// earlier cover its partitions (then the faults were skipped sectors); else missed.
async function provenAt(addr, d, close, headHeight) {
  if (close - 1 > headHeight) return w('notDue');
  if (close - 2 < 0) return '–';
  const at = async (h) => {
    const ts = await rpc('ChainGetTipSetByHeight', [h, null]);
    const dls = await rpc('StateMinerDeadlines', [addr, ts.Cids]).catch(() => null);
    const parts = dls ? (await rpc('StateMinerPartitions', [addr, d, ts.Cids])) || [] : [];
    return { posted: dls ? count(dls[d].PostSubmissions) : 0, live: parts.filter((x) => count(x.LiveSectors || x.AllSectors) > 0).length,
      faulty: parts.reduce((n, x) => n + count(x.FaultySectors), 0) };
  };
  const after = await at(close - 1);
  if (!after.live) return '–';
  const before = await at(close - 2), ok = after.faulty === 0 || before.posted >= after.live;
  return `<span class="${ok ? 'ok' : 'bad'}">${ok ? w('proven') : w('missed')}${after.faulty ? ` (${w('faulty')}: ${after.faulty})` : ''}</span>`;
}

async function miner(addr) {
  const actor = await rpc('StateGetActor', [addr, null]), kind = kindOfCode(actor.Code);
  if (kind !== 'storageminer') {
    view(`<h1>${w('actor')} ${esc(addr)}</h1>` + dl([[w('kind'), esc(kind)], [w('balance'), fil(actor.Balance)], [w('nonce'), actor.Nonce]]));
    return;
  }
  const id = await rpc('StateLookupID', [addr, null]), p = await rpc('StateMinerPower', [addr, null]), c = await rpc('StateMinerSectorCount', [addr, null]);
  const info = await rpc('StateMinerInfo', [addr, null]), cur = await rpc('StateMinerProvingDeadline', [addr, null]);
  const dls = (await rpc('StateMinerDeadlines', [addr, null])) || [], rows = [];
  for (let d = 0; d < dls.length; d++) {
    const parts = (await rpc('StateMinerPartitions', [addr, d, null])) || [];
    const sectors = parts.reduce((n, x) => n + count(x.LiveSectors || x.AllSectors), 0), faulty = parts.reduce((n, x) => n + count(x.FaultySectors), 0);
    const close = cur.PeriodStart + (d + 1) * cur.WPoStChallengeWindow, hh = cur.CurrentEpoch;
    const now = close - 1 > hh ? (d === cur.Index ? `${w('open')} ${count(dls[d].PostSubmissions)}/${parts.length}` : w('notDue'))
      : await provenAt(addr, d, close, hh);
    const before = await provenAt(addr, d, close - cur.WPoStProvingPeriod, hh);
    rows.push(`<tr${d === cur.Index ? ' class="current"' : ''}><td>${d}${d === cur.Index ? ` (${w('current')})` : ''}</td><td>${sectors}</td>` +
      `<td>${parts.length}</td><td>${count(dls[d].PostSubmissions)}</td><td>${faulty}</td><td class="this-period">${now}</td><td class="last-period">${before}</td></tr>`);
  }
  const won = [], h = await head(), perHour = new Map();
  let ts = h, mine = [];
  for (let k = 0; k < 100 && ts.Height > 0; k++) {
    ts.Blocks.forEach((b, i) => {
      if (b.Miner !== id) return;
      won.push(`${link(`#/height/${ts.Height}`, ts.Height)} (${link(`#/block/${cidOf(ts.Cids[i])}`, cidOf(ts.Cids[i]).slice(-8))})`);
      const hour = new Date(b.Timestamp * 1000).toISOString().slice(0, 13).replace('T', ' ') + 'h';
      perHour.set(hour, (perHour.get(hour) || 0) + 1);
    });
    const parent = await rpc('ChainGetTipSet', [ts.Blocks[0].Parents]);
    mine = mine.concat((await executed(ts, parent)).filter((x) => x.m.To === id || x.m.To === addr));
    ts = parent;
  }
  const hist = await minerHistory(addr, h.Height);
  const names = METHODS.storageminer, options = [...new Set(mine.map((x) => x.m.Method))].sort((a, b) => a - b)
    .map((m) => `<option value="${m}">${esc(names[m] ? `${names[m][0]} · ${names[m][1]}` : `method ${m}`)}</option>`).join('');
  const messages = `<h2>${w('minerMessages')}</h2><p class="note">${w('filter')}: <select id="method-filter"><option value="">${w('all')}</option>${options}</select></p>` +
    await executedTable('miner-messages', mine, false);
  const mp = p.MinerPower, tp = p.TotalPower, size_ = info.SectorSize;
  view(`<h1>${w('miner')} ${esc(id)}</h1>` + dl([
    [w('rawPower'), `<span id="raw-power">${size(mp.RawBytePower)}</span> / ${size(tp.RawBytePower)} (${w('share')} ${pct(mp.RawBytePower, tp.RawBytePower)})`],
    [w('qaPower'), `<span id="qa-power">${size(mp.QualityAdjPower)}</span> / ${size(tp.QualityAdjPower)} (${w('share')} ${pct(mp.QualityAdjPower, tp.QualityAdjPower)})`],
    [w('committed'), `${c.Live} (${size(c.Live * size_)})`], [w('proving'), `${c.Live - c.Faulty} (${size((c.Live - c.Faulty) * size_)})`],
    [w('faulty'), `${c.Faulty} (${size(c.Faulty * size_)})`], [w('balance'), fil(actor.Balance)],
  ]) + `<h2>${w('deadlines')}</h2><table id="deadlines"><thead><tr><th>${w('deadline')}</th><th>${w('sectors')}</th><th>${w('partitions')}</th>` +
    `<th>${w('proven')}</th><th>${w('faulty')}</th><th>${w('thisPeriod')}</th><th>${w('lastPeriod')}</th></tr></thead><tbody>${rows.join('')}</tbody></table>` +
    `<h2>${w('recentBlocks')}</h2><p id="won">${won.join(', ') || w('none')}</p>` + messages +
    `<h2>${w('powerChart')}</h2>${svgLines('chart-power', [{ name: w('rawPower'), color: '#3b82f6', points: hist.raw }], size)}` +
    `<h2>${w('sectorsChart')}</h2>${svgLines('chart-sectors', [{ name: w('proving'), color: '#15803d', points: hist.proven }, { name: w('faulty'), color: '#b91c1c', points: hist.faulty }], String)}` +
    `<h2>${w('blocksChart')}</h2>${svgBars('chart-blocks', [...perHour.entries()].sort())}`);
  $('#method-filter').addEventListener('change', (ev) => {
    for (const tr of document.querySelectorAll('#miner-messages tbody tr[data-method]')) tr.hidden = ev.target.value !== '' && tr.dataset.method !== ev.target.value;
  });
}

// A search: a height, a CID (block, else message) or an address.
async function search(q) {
  q = q.trim();
  if (/^\d+$/.test(q)) { await checkHeight(q); return `#/height/${q}`; }
  if (/^[tf][0-4]/.test(q)) { await rpc('StateLookupID', [q, null]); return `#/miner/${q}`; }
  if (/^b[a-z2-7]{20,}$/.test(q)) {
    try { await rpc('ChainGetBlock', [{ '/': q }]); return `#/block/${q}`; } catch (e) { /* a message? */ }
    try { await rpc('ChainGetMessage', [{ '/': q }]); return `#/msg/${q}`; } catch (e) { /* neither */ }
    throw new Error(`no block or message has CID ${q}`);
  }
  throw new Error(`"${q}" is not a height, a CID or an address (t0…, t1…, t3…)`);
}

async function route() {
  if (refresh) { clearInterval(refresh); refresh = null; }
  showError('');
  const [, what, arg] = location.hash.replace(/^#\/?/, '/').split('/').map(decodeURIComponent);
  try {
    if (!what) await home();
    else if (what === 'height') await tipset(arg || '');
    else if (what === 'block') await block(arg || '');
    else if (what === 'msg') await message(arg || '');
    else if (what === 'miner') await miner(arg || '');
    else throw new Error(`no page "${what}": the pages are heights, height/N, block/CID, msg/CID and miner/ADDRESS`);
  } catch (e) {
    view(`<p class="note">${link('#/', w('heights'))}</p>`);
    showError(e.message);
  }
}

function applyLang() {
  document.documentElement.lang = lang;
  $('#lang').textContent = lang === 'zh' ? 'English' : '中文';
  $('#go').textContent = w('search');
  $('#q').placeholder = w('placeholder');
}

$('#search').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try { const to = await search($('#q').value); showError(''); if (location.hash === to) route(); else location.hash = to; } catch (e) { showError(e.message); }
});
$('#lang').addEventListener('click', () => { lang = lang === 'zh' ? 'en' : 'zh'; localStorage.setItem('spacetime-lang', lang); applyLang(); route(); });
window.addEventListener('hashchange', route);
applyLang();
route();

// The explorer in a real browser: Debian's Chromium driven by playwright-core, against a running
// cluster (tests/cmd/test_explorer.sh starts it and passes what the chain holds).
//   node explorer.mjs URL BLOCK_CID MESSAGE_CID DEADLINE MINER UNKNOWN_CID ARTIFACT_DIR
// Exits non-zero with the failures listed; saves screenshots into ARTIFACT_DIR.
import { chromium } from 'playwright-core';

const [url, blockCid, msgCid, deadline, miner, unknownCid, artifacts] = process.argv.slice(2);
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
const text = (sel) => page.textContent(sel).catch(() => '');
const visibleError = async () => ((await page.isVisible('#error')) ? (await text('#error')).trim() : '');
const shot = (name) => page.screenshot({ path: `${artifacts}/explorer-${name}.png`, fullPage: true });

try {
  // heights increase by themselves
  await page.goto(url);
  await page.waitForSelector('#heights tbody tr td.height', { timeout: 15000 });
  const first = Number(await text('#heights tbody tr td.height'));
  await page.waitForFunction((h) => Number(document.querySelector('#heights tbody tr td.height')?.textContent) > h, first, { timeout: 15000 });
  const later = Number(await text('#heights tbody tr td.height'));
  check(later > first, `heights did not increase: ${first} then ${later}`);
  await shot('heights');

  // the network at a glance, checked against the JSON-RPC; the latest messages with their method
  const api = async (method, params) => (await (await fetch(`${url}rpc/v1`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: `Filecoin.${method}`, params }) })).json()).result;
  const netHeight = Number(await text('#net-height')), netMiners = Number(await text('#net-miners'));
  const headNow = await api('ChainHead', []);
  check(netHeight <= headNow.Height && netHeight >= headNow.Height - 3, `network height ${netHeight}, ChainHead ${headNow.Height}`);
  check(netMiners === ((await api('StateListMiners', [null])) || []).length, `network miners ${netMiners}`);
  const kib = (b) => `${+(Number(b) / 1024).toPrecision(3)} KiB`, total = (await api('StateMinerPower', [miner, null])).TotalPower;
  check((await text('#net-raw')).trim() === kib(total.RawBytePower), `total raw power ${await text('#net-raw')}, API ${total.RawBytePower}`);
  check(Number(await text('#net-messages')) >= (await page.$$('#latest tbody tr[data-method]')).length, 'more latest messages than counted');
  const latest = await page.$$eval('#latest td.method', (tds) => tds.map((td) => td.textContent));
  check(latest.length > 0, 'no latest messages on the home page');

  // the miner's messages, filtered to 提交时空证明: the post is there, and nothing else is shown
  await page.goto(`${url}#/miner/${miner}`);
  await page.waitForSelector('#method-filter', { timeout: 30000 });
  await page.selectOption('#method-filter', '5');
  const shown = await page.$$eval('#miner-messages tbody tr[data-method]', (trs) => trs.filter((tr) => !tr.hidden).map((tr) => tr.textContent));
  check(shown.length > 0 && shown.every((t) => t.includes('SubmitWindowedPoSt') && t.includes('提交时空证明')),
    `the filter to SubmitWindowedPoSt shows: ${shown.join(' | ').slice(0, 300)}`);
  check(shown.some((t) => t.includes(msgCid.slice(-12))), `the post ${msgCid} is not among the miner's SubmitWindowedPoSt messages`);
  await shot('miner-messages');
  // its charts, drawn in the page (SVG): power and sectors over time, blocks won per hour; and
  // the post's deadline proven (or still open) in this period
  const points = await page.$eval('#chart-power polyline', (p) => p.getAttribute('points').trim().split(' ').length).catch(() => 0);
  check(points >= 2, `the power chart has ${points} point(s)`);
  check((await page.$$('#chart-sectors polyline')).length === 2, 'the sectors chart lacks its two lines');
  check((await page.$$('#chart-blocks rect')).length >= 1, 'the blocks-per-hour chart has no bar');
  const thisPeriod = await text(`#deadlines tbody tr:nth-child(${Number(deadline) + 1}) td.this-period`);
  check(/^(proven|open [01]\/1)$/.test(thisPeriod.trim()), `deadline ${deadline} this period: "${thisPeriod}"`);
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#view').textContent.includes('消息（最近 100 个高度）'), null, { timeout: 30000 });
  await shot('miner-messages-zh');
  await page.goto(url);
  await page.waitForSelector('#net-height', { timeout: 30000 });
  check((await text('#view')).includes('全网概览') && (await text('#view')).includes('最新消息'), 'the home page in Chinese lacks 全网概览 or 最新消息');
  await shot('home-zh');
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#view').textContent.includes('The network'), null, { timeout: 30000 });
  await shot('home');

  // the block holding a SubmitWindowedPoSt: its method in English and Chinese
  await page.goto(`${url}#/block/${blockCid}`);
  await page.waitForSelector('table.messages td.method', { timeout: 15000 });
  const methods = await page.$$eval('table.messages td.method', (tds) => tds.map((td) => td.textContent));
  check(methods.some((m) => m.includes('SubmitWindowedPoSt') && m.includes('提交时空证明')), `no SubmitWindowedPoSt · 提交时空证明 in the block: ${methods}`);
  check((await text('#view')).includes('Win count'), 'the block page lacks its win count');
  await shot('block');

  // the message: decoded deadline, receipt, fee and the miner who received it
  await page.click(`a[href="#/msg/${msgCid}"]`);
  await page.waitForSelector('#post-deadline', { timeout: 15000 });
  check((await text('#post-deadline')).trim() === deadline, `decoded deadline ${await text('#post-deadline')}, want ${deadline}`);
  check((await text('#exit-code')).trim() === '0', `exit code ${await text('#exit-code')}`);
  const view = await text('#view');
  check(view.includes('提交时空证明') && view.includes('Fee') && view.includes(`Fee received by the miner of block${miner}`),
    `the message page lacks the method, the fee or its receiver: ${view.slice(0, 400)}`);
  await shot('message');

  // the miner: its power and deadlines
  await page.goto(`${url}#/miner/${miner}`);
  await page.waitForSelector('#raw-power', { timeout: 15000 });
  check(/KiB/.test(await text('#raw-power')), `raw power "${await text('#raw-power')}"`);
  check((await page.$$('#deadlines tbody tr')).length > 0, 'no deadlines table');
  await shot('miner');

  // Chinese
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#go').textContent === '搜索', null, { timeout: 5000 });
  try { await page.waitForFunction(() => document.querySelector('#view').textContent.includes('原值算力'), null, { timeout: 15000 }); } catch (e) { /* below */ }
  check((await text('#view')).includes('原值算力'), 'the miner page in Chinese lacks 原值算力');
  await shot('miner-zh');
  await page.click('#lang');

  // bad input: a clear message, never a blank page
  const bad = [
    ['search', unknownCid, `no block or message has CID ${unknownCid}`],
    ['search', 'bafy2bzacenot-a-cid', 'is not a height, a CID or an address'],
    ['search', 't0abc', 'invalid address'],
    ['search', '99999999999999999999999', 'is above the head'],
    ['url', '#/height/12abc', 'is not a height'],
    ['url', `#/msg/${unknownCid}`, 'ChainGetMessage'],
    ['url', '#/miner/t9zzz', 'address'],
    ['url', '#/nowhere', 'no page "nowhere"'],
  ];
  for (const [how, input, want] of bad) {
    if (how === 'search') {
      await page.goto(url);
      await page.fill('#q', input);
      await page.click('#go');
    } else await page.goto(url + input);
    try { await page.waitForFunction((w) => document.querySelector('#error')?.textContent.includes(w), want, { timeout: 10000 }); } catch (e) { /* reported below */ }
    const err = await visibleError();
    check(err.includes(want), `${how} "${input}": error "${err}", want "${want}"`);
    check((await text('#view')).trim() !== '', `${how} "${input}": a blank page`);
  }
  await shot('bad-input');
} catch (e) {
  failures.push(`the test stopped: ${e.message}`);
  await shot('failure').catch(() => {});
}
check(pageErrors.length === 0, `errors in the page: ${pageErrors.join('; ')}`);
await browser.close();
if (failures.length) {
  for (const f of failures) console.log(`FAIL: ${f}`);
  process.exit(1);
}
console.log('explorer: all checks passed');

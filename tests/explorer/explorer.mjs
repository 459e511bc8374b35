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

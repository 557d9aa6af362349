import { chromium } from 'playwright-core';
import { deliverFixtures, fixtureNames, mintToken, startServer, SELLER_A } from './support.mjs';
const server = await startServer([]);
try {
  await deliverFixtures(server.base, fixtureNames());
  const a = mintToken(server.addr, SELLER_A);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  page.on('response', (r) => { if (r.status() >= 400) console.log(r.status(), r.url()); });
  await page.goto(a.address);
  await page.locator('tbody tr').first().waitFor({ timeout: 10000 });
  console.log(await page.locator('tbody tr').first().evaluate((tr) => [...tr.children].map((td) => `${td.className} ${td.getBoundingClientRect().width} ${getComputedStyle(td).display}`)));
  await page.screenshot({ path: '/tmp/pg/dbg.png' });
  await browser.close();
} finally { await server.stop(); }

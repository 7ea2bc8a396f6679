import { chromium } from 'playwright-core';
import { serveDirectory } from '/work/main/apps/robustness/scripts/serve-web.mjs';
const FLAGS = ['--headless=new','--no-sandbox','--disable-background-networking','--disable-component-update','--disable-sync','--no-first-run','--disable-quic','--enable-unsafe-webgpu','--enable-features=Vulkan','--use-webgpu-adapter=swiftshader','--use-angle=swiftshader'];
const server = await serveDirectory('/tmp/webtest');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS });
const page = await browser.newPage();
page.on('pageerror', (e) => console.log('pageerror:', e.message));
const t = Date.now();
await page.goto(`${server.origin}/?backend=${process.argv[2] ?? 'auto'}&n=20`);
await page.waitForFunction(() => window.__results?.status === 'ready');
console.log('ready', Date.now() - t);
await page.fill('#train-images', '32'); await page.fill('#train-batch', '16'); await page.fill('#train-epochs', '1');
await page.click('#train');
for (let i = 0; i < Number(process.argv[3] ?? 24); i++) {
  await new Promise((r) => setTimeout(r, 5000));
  const s = await page.evaluate(() => [document.getElementById('train-status').textContent, window.__results.train?.done, window.__results.error]);
  console.log(Date.now() - t, JSON.stringify(s));
  if (s[1] || s[2]) break;
}
await browser.close(); await server.close();

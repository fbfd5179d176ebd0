/**
 * The JavaScript a first visit downloads before anything renders: the entry script and the
 * modules index.html preloads, gzipped. Fails above the budget (200 KB by default).
 *
 *   node e2e/lib/bundle-size.mjs [web/dist] [budget-bytes]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..', '..', 'web', 'dist'));
const budget = Number(process.argv[3] ?? 200 * 1024);
const html = readFileSync(path.join(dist, 'index.html'), 'utf8');

const initial = new Set();
for (const [, src] of html.matchAll(/<script[^>]*\ssrc="([^"]+\.js)"/g)) initial.add(src);
for (const [, href] of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"/g)) initial.add(href);

let total = 0;
for (const file of initial) {
  const bytes = gzipSync(readFileSync(path.join(dist, file.replace(/^\//, '')))).length;
  total += bytes;
  console.log(`  ${file}  ${(bytes / 1024).toFixed(1)} KB gzipped`);
}
const verdict = total <= budget ? 'within' : 'OVER';
console.log(`initial JS: ${(total / 1024).toFixed(1)} KB gzipped (${verdict} the ${(budget / 1024).toFixed(0)} KB budget)`);
process.exit(total <= budget ? 0 : 1);

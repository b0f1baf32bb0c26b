/**
 * The HTML report, rendered by a real browser (Debian's chromium, driven by playwright-core):
 * the three charts are laid out with real sizes, the histogram has a bar per bucket with
 * requests, and the time series have a point per second of the run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineResult } from './engine.ts';
import { renderHtml, type Report } from './report.ts';
import { evaluateThresholds, summarize } from './stats.ts';

const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-report-'));
let browser: Browser;

beforeAll(async () => {
  if (!chromiumPath) throw new Error('chromium is not installed: run scripts/install-test-deps.sh (Debian package chromium)');
  browser = await chromium.launch({
    executablePath: chromiumPath,
    // As root in a sandbox-less container; no background networking (this machine has none).
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A 5-second run: latencies from 1 to 40 ms, 200 completions per second. */
function fakeRun(): EngineResult {
  const n = 1000;
  const latencies = Float64Array.from({ length: n }, (_, i) => 1 + (i % 40));
  const completedAt = Float64Array.from({ length: n }, (_, i) => (i / n) * 5000);
  return {
    startedAt: Date.parse('2026-11-29T00:00:00Z'),
    dropped: 0,
    elapsedMs: 5000,
    scheduled: n,
    latencies,
    completedAt,
    targetOf: new Uint8Array(n),
    completed: n,
    statuses: new Map([[200, n]]),
    unexpected: 0,
    failures: new Map(),
    generatorLagMs: { p99: 1, max: 2 },
  };
}

describe('the HTML report in Chromium', () => {
  it('renders the latency histogram and both time series with data', async () => {
    const summary = summarize(fakeRun());
    const report: Report = {
      scenario: 'agent_storm',
      description: 'render test',
      started_at: '2026-11-29T00:00:00.000Z',
      environment: { cores: 2 },
      options: { rate: 200 },
      summary,
      thresholds: evaluateThresholds({ http_req_duration: ['p(99)<25'] }, summary),
      checks: { lost: 0 },
      ok: false,
    };
    const file = path.join(dir, 'report.html');
    fs.writeFileSync(file, renderHtml(report));
    const page = await browser.newPage({ viewport: { width: 900, height: 1400 } });
    await page.goto(`file://${file}`);
    const charts = await page.evaluate(() =>
      ['latency-histogram', 'throughput', 'latency-over-time'].map((id) => {
        const svg = document.getElementById(id)!;
        const box = svg.getBoundingClientRect();
        const bars = [...svg.querySelectorAll('rect.bar')].filter((r) => r.getBoundingClientRect().height > 0).length;
        const lines = [...svg.querySelectorAll('polyline.series')].map((l) => (l as SVGPolylineElement).points.numberOfItems);
        return { id, width: box.width, height: box.height, bars, lines };
      }),
    );
    expect(charts.map((c) => c.id)).toEqual(['latency-histogram', 'throughput', 'latency-over-time']);
    for (const c of charts) expect(c.width * c.height, c.id).toBeGreaterThan(100_000);
    const nonEmpty = summary.histogram.filter((b) => b.count > 0).length;
    expect(charts[0]!.bars).toBe(nonEmpty); // 1..40 ms spans several buckets
    expect(nonEmpty).toBeGreaterThan(2);
    expect(charts[1]!.lines).toEqual([summary.per_second.length]);
    expect(charts[2]!.lines).toEqual([summary.per_second.length, summary.per_second.length]); // p50 and p99
    expect(await page.locator('h1 .fail').textContent()).toBe('FAILED');
    await page.screenshot({ path: path.join(dir, 'report.png'), fullPage: true });
    expect(fs.statSync(path.join(dir, 'report.png')).size).toBeGreaterThan(10_000);
    await page.close();
  }, 60_000);
});

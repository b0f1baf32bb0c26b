/**
 * A run's report: the JSON document (the numbers docs/operator/scale.md quotes) and a
 * self-contained HTML page with three inline SVG charts (latency histogram, throughput over
 * time, p50/p99 over time). No scripts and no external assets: it opens anywhere.
 */
import type { Summary, ThresholdResult } from './stats.ts';

export interface Report {
  scenario: string;
  description: string;
  started_at: string;
  environment: Record<string, string | number>;
  options: Record<string, string | number>;
  /** The warm-up phase, not part of the results (e.g. a cold authentication cache). */
  warmup?: { duration_s: number; achieved_rate: number; dropped: number; failed: number; p50_ms: number; p99_ms: number };
  summary: Summary;
  thresholds: ThresholdResult[];
  checks: Record<string, number | string | boolean>;
  ok: boolean;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
}

/** A line chart; x and y start at 0. */
function lineChart(id: string, title: string, yLabel: string, series: Series[]): string {
  const w = 720;
  const h = 240;
  const pad = { l: 56, r: 12, t: 28, b: 32 };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xMax = Math.max(1, ...xs);
  const yMax = Math.max(1e-9, ...ys) * 1.1;
  const x = (v: number) => pad.l + (v / xMax) * (w - pad.l - pad.r);
  const y = (v: number) => h - pad.b - (v / yMax) * (h - pad.t - pad.b);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => yMax * f);
  return `<svg id="${id}" class="chart" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(title)}">
  <text x="${pad.l}" y="18" class="title">${esc(title)}</text>
  ${ticks.map((t) => `<line x1="${pad.l}" x2="${w - pad.r}" y1="${y(t)}" y2="${y(t)}" class="grid"/><text x="${pad.l - 6}" y="${y(t) + 4}" class="tick" text-anchor="end">${t >= 100 ? Math.round(t) : t.toFixed(1)}</text>`).join('')}
  <text x="${(w + pad.l) / 2}" y="${h - 6}" class="tick" text-anchor="middle">seconds</text>
  <text x="12" y="${h / 2}" class="tick" transform="rotate(-90 12 ${h / 2})" text-anchor="middle">${esc(yLabel)}</text>
  ${series.map((s) => `<polyline class="series" data-series="${esc(s.name)}" fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ')}"/>`).join('\n  ')}
  ${series.map((s, i) => `<text x="${w - pad.r - 110}" y="${18 + i * 14}" fill="${s.color}" class="tick">${esc(s.name)}</text>`).join('')}
</svg>`;
}

function histogramChart(summary: Summary): string {
  const buckets = summary.histogram.filter((b, i, all) => b.count > 0 || all.slice(i).some((x) => x.count > 0));
  const w = 720;
  const h = 240;
  const pad = { l: 56, r: 12, t: 28, b: 40 };
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const bw = (w - pad.l - pad.r) / Math.max(1, buckets.length);
  return `<svg id="latency-histogram" class="chart" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="Latency histogram">
  <text x="${pad.l}" y="18" class="title">Latency histogram (requests per bucket, ms upper bound)</text>
  ${buckets
    .map((b, i) => {
      const bh = (b.count / max) * (h - pad.t - pad.b);
      const label = Number.isFinite(b.le_ms) ? `≤${b.le_ms}` : '>10 s';
      return `<rect class="bar" x="${(pad.l + i * bw + 2).toFixed(1)}" y="${(h - pad.b - bh).toFixed(1)}" width="${(bw - 4).toFixed(1)}" height="${bh.toFixed(1)}" fill="#4c78a8"><title>${esc(label)} ms: ${b.count}</title></rect><text x="${(pad.l + i * bw + bw / 2).toFixed(1)}" y="${h - pad.b + 14}" class="tick" text-anchor="middle">${esc(label)}</text>`;
    })
    .join('\n  ')}
</svg>`;
}

export function renderHtml(report: Report): string {
  const s = report.summary;
  const rows = (o: Record<string, unknown>) =>
    Object.entries(o)
      .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`)
      .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>certfleet load test: ${esc(report.scenario)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 16px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}.chart{display:block;margin:12px 0;background:#fafafa;border:1px solid #ddd}
.grid{stroke:#e4e4e4}.tick{font-size:11px;fill:#555}.title{font-size:13px;font-weight:600}.ok{color:#1a7f37}.fail{color:#c62828}
</style></head><body>
<h1>${esc(report.scenario)} <span class="${report.ok ? 'ok' : 'fail'}">${report.ok ? 'passed' : 'FAILED'}</span></h1>
<p>${esc(report.description)}</p>
<h2>Results</h2>
<table>${rows({ requests: s.requests, dropped: s.dropped, completed: s.completed, 'achieved rate (req/s)': s.achieved_rate, failed: s.failed, 'p50 ms': s.latency_ms.p50, 'p90 ms': s.latency_ms.p90, 'p95 ms': s.latency_ms.p95, 'p99 ms': s.latency_ms.p99, 'max ms': s.latency_ms.max, 'driver event-loop lag p99/max ms': `${s.generator_lag_ms.p99} / ${s.generator_lag_ms.max}`, ...report.checks })}</table>
${report.warmup ? `<h2>Warm-up (not measured)</h2><table>${rows(report.warmup)}</table>` : ''}
<h2>Thresholds</h2>
<table>${report.thresholds.map((t) => `<tr><th>${esc(t.metric)}</th><td>${esc(t.expression)}</td><td>${t.actual}</td><td class="${t.ok ? 'ok' : 'fail'}">${t.ok ? 'ok' : 'failed'}</td></tr>`).join('')}</table>
${histogramChart(s)}
${lineChart('throughput', 'Throughput (completed requests per second)', 'req/s', [{ name: 'completed/s', color: '#4c78a8', points: s.per_second.map((p) => [p.t, p.completed]) }])}
${lineChart('latency-over-time', 'Latency over time (ms, from the scheduled send time)', 'ms', [
  { name: 'p50', color: '#4c78a8', points: s.per_second.map((p) => [p.t, p.p50]) },
  { name: 'p99', color: '#e45756', points: s.per_second.map((p) => [p.t, p.p99]) },
])}
<h2>Run</h2>
<table>${rows({ started_at: report.started_at, ...report.options, ...report.environment })}</table>
</body></html>
`;
}

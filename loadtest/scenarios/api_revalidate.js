// api_revalidate: clients revalidating the lists they hold (If-None-Match with the ETag they got):
// 304 each time, as nothing changes during the run. The same 8 dashboard lists as api_list; their
// ETags are fetched once before the run. Read by loadtest/k6/api_revalidate.js and by the Node
// driver. Plain JavaScript. Answered without a database query (the response cache).
import { dashboardLists } from './api_list.js';

const setup = Object.fromEntries(dashboardLists.map((path, n) => [`etag_${n}`, { path, header: 'etag' }]));

export default {
  name: 'api_revalidate',
  description: 'If-None-Match revalidation of 8 dashboard certificate lists: 304 each time; admin key',
  executor: 'constant-arrival-rate',
  rate: 10000,
  duration: '30s',
  warmup: '3s',
  connections: 64,
  thresholds: {
    http_req_failed: ['rate==0'],
    http_req_duration: ['p(99)<10'],
  },
  seed: { certificates: 10000 },
  setup,
  cycle: () => dashboardLists.length,
  request(i, ctx) {
    const n = i % dashboardLists.length;
    return {
      method: 'GET',
      path: dashboardLists[n],
      headers: { Authorization: `Bearer ${ctx.adminKey}`, 'If-None-Match': ctx.setup[`etag_${n}`] },
      body: null,
      expect: 304,
    };
  },
};

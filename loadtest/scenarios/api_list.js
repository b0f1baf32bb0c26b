// api_list: what operators' dashboards and automation do all day: poll the same few certificate
// lists (8 of them: filters and sorts a dashboard uses), admin key, first page of 50, 200 each
// time. Read by loadtest/k6/api_list.js and by the Node driver (npm run loadtest -- api_list).
// Plain JavaScript, no imports. Nothing writes during the run, so the response cache answers
// after the first request of each list (docs/operator/scale.md).
export const dashboardLists = [
  '/api/v1/certificates?per_page=50',
  '/api/v1/certificates?status=Active&sort=expires_at&per_page=50',
  '/api/v1/certificates?status=Active&sort=-expires_at&per_page=50',
  '/api/v1/certificates?environment=load&sort=name&per_page=50',
  '/api/v1/certificates?owner_id=load-owner&sort=-created_at&per_page=50',
  '/api/v1/certificates?status=RenewalInProgress&per_page=50',
  '/api/v1/certificates?issuer_id=load-issuer&sort=common_name&per_page=50&include_total=false',
  '/api/v1/certificates?team_id=load-team&sort=updated_at&per_page=50&fields=id,name,status,expires_at',
];

export default {
  name: 'api_list',
  description: 'Dashboard polling: 8 certificate lists (filters, sorts, projections), first page of 50, 200 each; admin key',
  executor: 'constant-arrival-rate',
  rate: 5000,
  duration: '30s',
  warmup: '3s',
  connections: 64,
  thresholds: {
    http_req_failed: ['rate==0'],
    http_req_duration: ['p(99)<20'],
  },
  seed: { certificates: 10000 },
  cycle: () => dashboardLists.length,
  request(i, ctx) {
    return { method: 'GET', path: dashboardLists[i % dashboardLists.length], headers: { Authorization: `Bearer ${ctx.adminKey}` }, body: null, expect: 200 };
  },
};

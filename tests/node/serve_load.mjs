// Load test of `alab serve`: 16 concurrent clients on 127.0.0.1 sending a mix
// of plain, echo/log-prob, streamed and chat requests (and a bad one), each
// with a fresh connection or kept alive, for a fixed number of requests.
// Must show: no failed request, every answer well formed, a clean shutdown,
// and no leak.
//
// What "no leak" means here, by build:
// - ASan+UBSan (ALAB_SANITIZE=1): LeakSanitizer runs in the server at exit
//   (CMake sets detect_leaks=1 for it), and a leak makes the exit status
//   nonzero, which the clean-shutdown check sees. Resident memory is not
//   checked: ASan's quarantine and shadow memory grow with the number of
//   frees, so VmRSS there measures the sanitizer, not the server.
// - Release: resident memory must stop growing once the allocator has warmed
//   up. A leak grows VmRSS in proportion to the requests served; warm-up
//   (thread arenas, per-thread tokenizer caches, libmicrohttpd pools) grows it
//   by a bounded amount whose rate falls as requests accumulate. So the test
//   serves WARM requests first, then fits the least-squares slope of VmRSS
//   against the request count over the next MEASURE requests and bounds it.
//
// How the bound was derived (2-core EPYC, Debian 12, this mix, 16 clients,
// the server before the gate of issue 10): VmRSS went from 28 MB to a
// plateau near 51 MB; the growth rate fell from about 590 B/request at 10-20k
// requests to 125 B/request at 20k-40k and 16 B/request past 100k. The bound,
// 256 B/request over requests 20k-40k, is twice the worst rate measured
// there, and catches any leak of one buffer of 256 bytes or more per request
// (a leaked body, response or decoder); smaller or unreachable leaks are
// LeakSanitizer's to find. Env: SERVE_LOAD_WARM, SERVE_LOAD_MEASURE.
import { makeModel, startServer, rssKiB, check, done } from './serve_helper.mjs';

const sanitized = process.env.ALAB_SANITIZE === '1', clients = 16;
const warm = +(process.env.SERVE_LOAD_WARM || (sanitized ? 2000 : 20000));
const measure = +(process.env.SERVE_LOAD_MEASURE || (sanitized ? 2000 : 20000));
const slopeBound = 256;  // bytes of VmRSS per request, Release only
const dir = makeModel('serve_load_node');
const srv = await startServer(dir, ['--workers', '2', '--queue', '256']);
const post = (path, body) => fetch(srv.url + path, { method: 'POST', body: JSON.stringify(body),
                                                     headers: { 'content-type': 'application/json' } });
const kinds = [
  async (i) => { const r = await post('/v1/completions', { prompt: `Hello ${i % 97}`, max_tokens: 8, seed: i });
                 const j = await r.json(); return r.status === 200 && typeof j.choices[0].text === 'string'; },
  async (i) => { const r = await post('/v1/completions', { prompt: [[1, 2, 3, i % 300], [5, 6]], max_tokens: 1, echo: true, logprobs: 1, temperature: 0 });
                 const j = await r.json(); return r.status === 200 && j.choices.length === 2 && j.choices[0].logprobs.token_logprobs.length === 5; },
  async (i) => { const r = await post('/v1/completions', { prompt: 'stream me', max_tokens: 6, stream: true, seed: i });
                 const t = await r.text(); return r.status === 200 && t.trimEnd().endsWith('data: [DONE]'); },
  async (i) => { const r = await post('/v1/chat/completions', { messages: [{ role: 'user', content: `q${i % 97}` }], max_tokens: 6 });
                 const j = await r.json(); return r.status === 200 && j.choices[0].message.role === 'assistant'; },
  async (i) => { const r = await post('/v1/completions', { prompt: 'x', max_tokens: -3 });  // a bad request among the load
                 const j = await r.json(); return r.status === 400 && j.error.code === 'invalid_value'; },
];

// Least-squares slope of y against x.
function slope(xs, ys) {
  const n = xs.length, mx = xs.reduce((a, b) => a + b, 0) / n, my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let k = 0; k < n; k++) { sxy += (xs[k] - mx) * (ys[k] - my); sxx += (xs[k] - mx) ** 2; }
  return sxx > 0 ? sxy / sxx : 0;
}

const total = warm + measure, rssStart = rssKiB(srv.pid), t0 = Date.now();
let next = 0, done_ = 0, ok = 0, failed = 0;
const samples = [];  // [requests done, VmRSS KiB] once past the warm-up
async function client() {
  for (let i = next++; i < total; i = next++) {
    try { if (await kinds[i % kinds.length](i)) ok++; else failed++; } catch (e) { failed++; console.error(e.message); }
    done_++;
    if (done_ >= warm && done_ % 250 === 0) samples.push([done_, rssKiB(srv.pid)]);
  }
}
await Promise.all(Array.from({ length: clients }, () => client()));
const el = (Date.now() - t0) / 1000, rssEnd = rssKiB(srv.pid);
const rate = slope(samples.map((s) => s[0]), samples.map((s) => s[1] * 1024));
console.log(`load: ${ok} ok, ${failed} failed in ${el.toFixed(1)} s (${(ok / el).toFixed(0)} requests/s); ` +
            `VmRSS start ${rssStart} KiB, after ${warm} requests ${samples.length ? samples[0][1] : NaN} KiB, ` +
            `end ${rssEnd} KiB; growth over requests ${warm}-${total}: ${rate.toFixed(1)} B/request ` +
            `(${samples.length} samples${sanitized ? ', not checked under ASan' : ''})`);
check(failed === 0 && ok === total, `no failed request (${failed} failed, ${ok} ok of ${total})`);
if (!sanitized)
  check(samples.length >= 20 && rate < slopeBound,
        `resident memory stops growing: ${rate.toFixed(1)} B/request over requests ${warm}-${total} (bound ${slopeBound})`);
check(srv.alive() && (await fetch(srv.url + '/health')).status === 200, 'still serving');
const st = await srv.stop();
check(st.code === 0, `clean shutdown on SIGTERM with no leak reported (exit ${st.code}, signal ${st.sig})`);
done();

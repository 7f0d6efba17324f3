// Load test of `alab serve`: 16 concurrent clients on 127.0.0.1 for a bounded
// time (SERVE_LOAD_SECONDS, default 10) sending a mix of plain, echo/log-prob,
// streamed and chat requests, each with a fresh connection or kept alive.
// Must show: no failed request, every answer well formed, and a stable
// resident memory (VmRSS after a warm-up vs at the end).
import { makeModel, startServer, rssKiB, check, done } from './serve_helper.mjs';

const seconds = +(process.env.SERVE_LOAD_SECONDS || 10), clients = 16;
const dir = makeModel('serve_load_node');
const srv = await startServer(dir, ['--workers', '2', '--queue', '256']);
const post = (path, body) => fetch(srv.url + path, { method: 'POST', body: JSON.stringify(body),
                                                     headers: { 'content-type': 'application/json' } });
const kinds = [
  async (i) => { const r = await post('/v1/completions', { prompt: `Hello ${i}`, max_tokens: 8, seed: i });
                 const j = await r.json(); return r.status === 200 && typeof j.choices[0].text === 'string'; },
  async (i) => { const r = await post('/v1/completions', { prompt: [[1, 2, 3, i % 300], [5, 6]], max_tokens: 1, echo: true, logprobs: 1, temperature: 0 });
                 const j = await r.json(); return r.status === 200 && j.choices.length === 2 && j.choices[0].logprobs.token_logprobs.length === 5; },
  async (i) => { const r = await post('/v1/completions', { prompt: 'stream me', max_tokens: 6, stream: true, seed: i });
                 const t = await r.text(); return r.status === 200 && t.trimEnd().endsWith('data: [DONE]'); },
  async (i) => { const r = await post('/v1/chat/completions', { messages: [{ role: 'user', content: `q${i}` }], max_tokens: 6 });
                 const j = await r.json(); return r.status === 200 && j.choices[0].message.role === 'assistant'; },
  async (i) => { const r = await post('/v1/completions', { prompt: 'x', max_tokens: -3 });  // a bad request among the load
                 const j = await r.json(); return r.status === 400 && j.error.code === 'invalid_value'; },
];

let ok = 0, failed = 0, rssWarm = 0;
const rssStart = rssKiB(srv.pid), t0 = Date.now();
async function client(c) {
  for (let i = c; Date.now() - t0 < seconds * 1000; i += clients) {
    try { if (await kinds[i % kinds.length](i)) ok++; else failed++; } catch (e) { failed++; console.error(e.message); }
    if (!rssWarm && Date.now() - t0 > seconds * 300) rssWarm = rssKiB(srv.pid);
  }
}
await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
const rssEnd = rssKiB(srv.pid), el = (Date.now() - t0) / 1000;
console.log(`load: ${ok} ok, ${failed} failed in ${el.toFixed(1)} s (${(ok / el).toFixed(0)} requests/s); ` +
            `VmRSS start ${rssStart} KiB, after warm-up ${rssWarm} KiB, end ${rssEnd} KiB`);
check(failed === 0 && ok > 50, `no failed request (${failed} failed, ${ok} ok)`);
const rssBound = (process.env.ALAB_SANITIZE === "1" ? 64 : 16) * 1024; // ASan's allocator keeps more per thread
check(rssEnd - rssWarm < rssBound, `resident memory stable: grew ${rssEnd - rssWarm} KiB after warm-up (bound ${rssBound})`);
check(srv.alive() && (await fetch(srv.url + '/health')).status === 200, 'still serving');
const st = await srv.stop();
check(st.code === 0, `clean shutdown on SIGTERM (exit ${st.code}, signal ${st.sig})`);
done();

// `alab serve` under attack on loopback, in bounded loops:
//   1. slow clients: 256 connections from another address (127.0.0.2), each
//      sending its request head one byte a second; real clients (127.0.0.1)
//      keep their throughput: windows with and without the attack alternate,
//      and the ratio of requests served must be >= MIN_RATIO (env
//      SERVE_ATTACK_MIN_RATIO, default 0.8 on a shared CI machine; the
//      bench runs it longer with 0.9);
//   2. memory amplification: 64 concurrent 1 MiB bodies of tiny JSON values
//      ("[[],[],...]" and {"a":{},...}): each gets a 4xx, and the server's
//      peak resident memory (VmHWM) stays under the bound README documents
//      (checked in the Release build; the sanitizer build runs the load only);
//   3. 500 concurrent connections, each with a whole request: every one gets
//      an HTTP response, 200 or 503 with Retry-After and a JSON error.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeModel, startServer, check, done } from './serve_helper.mjs';

const windowS = +(process.env.SERVE_ATTACK_WINDOW_S || 1), rounds = +(process.env.SERVE_ATTACK_ROUNDS || 4);
const minRatio = +(process.env.SERVE_ATTACK_MIN_RATIO || 0.8);
// The attacker runs in its own process (this script, forked with 'attacker PORT'),
// so its timers never delay the real clients' event loop; it opens n
// connections on 'start', each trickling a request head one byte a second and
// coming back a second after it is dropped, and closes them all on 'stop'.
if (process.argv[2] === 'attacker') {
  const port = +process.argv[3], head = 'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n';
  let on = false, socks = [], bytes = 0, answers = 0;
  const open = () => {
    if (!on) return;
    const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    let k = 0;
    const tick = setInterval(() => { if (k < head.length) { s.write(head[k++]); bytes++; } }, 1000);
    s.on('data', () => { answers++; });
    s.on('error', () => {});
    s.on('close', () => { clearInterval(tick); socks = socks.filter((x) => x !== s); setTimeout(open, 1000); });
    socks.push(s);
  };
  process.on('message', (m) => {
    if (m.start) { on = true; for (let i = 0; i < m.start; i++) open(); }
    else if (m.stop) { on = false; for (const s of socks) s.destroy(); socks = []; process.send({ bytes, answers }); }
    else if (m.exit) process.exit(0);
  });
} else {
const dir = makeModel('serve_attack_node');
const srv = await startServer(dir, ['--workers', '2', '--request-timeout', '5']);
const status = (key) => +(readFileSync(`/proc/${srv.pid}/status`, 'utf8').match(new RegExp(key + ':\\s+(\\d+) kB')) || [0, NaN])[1];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// one raw HTTP exchange: resolves to {status, headers, body} or {error}
function exchange(request, { localAddress, timeoutMs = 20000 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: srv.port, localAddress });
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => { s.destroy(); resolve({ error: 'timeout' }); }, timeoutMs);
    s.on('connect', () => s.end(request));
    s.on('data', (d) => { data = Buffer.concat([data, d]); });
    s.on('error', (e) => { clearTimeout(timer); resolve({ error: e.code || e.message, partial: data.toString() }); });
    s.on('close', () => {
      clearTimeout(timer);
      const t = data.toString(), m = t.match(/^HTTP\/1\.[01] (\d{3})/);
      if (!m) return resolve({ error: 'no HTTP response', partial: t.slice(0, 80) });
      const i = t.indexOf('\r\n\r\n');
      resolve({ status: +m[1], headers: t.slice(0, i), body: t.slice(i + 4) });
    });
  });
}
const completion = (prompt, max_tokens) => {
  const body = JSON.stringify({ prompt, max_tokens, temperature: 0 });
  return `POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
};

// ---- 1. slow clients ----
async function realLoad(ms) { // 4 clients, fresh connections, short completions
  let ok = 0, bad = 0;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 4 }, async (_, c) => {
    for (let i = c; Date.now() - t0 < ms; i += 4) {
      const r = await exchange(completion(`Hello ${i}`, 8));
      if (r.status === 200) ok++; else bad++;
    }
  }));
  return { ok, bad };
}
const attacker = fork(fileURLToPath(import.meta.url), ['attacker', String(srv.port)]);
let attackBytes = 0, attackRefused = 0;
const stopAttack = () => new Promise((res) => { attacker.once('message', (m) => { attackBytes = m.bytes; attackRefused = m.answers; res(); }); attacker.send({ stop: 1 }); });
await realLoad(500); // warm-up
let base = 0, under = 0, baseBad = 0, underBad = 0;
for (let r = 0; r < rounds; r++) { // windows alternate, so load from elsewhere on the machine falls on both
  const a = await realLoad(windowS * 1000);
  attacker.send({ start: 256 });
  await sleep(300);
  const b = await realLoad(windowS * 1000);
  await stopAttack();
  await sleep(200);
  base += a.ok, baseBad += a.bad, under += b.ok, underBad += b.bad;
}
attacker.send({ exit: 1 });
const ratio = under / base;
console.log(`slow clients: ${base} requests in ${rounds * windowS} s without the attack, ${under} under 256 slow ` +
            `connections (ratio ${ratio.toFixed(3)}; ${attackBytes} attack bytes, ${attackRefused} attack answers)`);
check(baseBad === 0 && underBad === 0, `real requests all served (${baseBad} + ${underBad} failed)`);
check(ratio >= minRatio, `throughput under the slow-client attack ${ratio.toFixed(3)} >= ${minRatio} of unattacked`);

// ---- 2. memory amplification ----
const rssBefore = status('VmRSS');
const bodies = ['[]', '{}'].map((v) => {
  const parts = [];
  let len = 20;
  for (let i = 0; len < (1 << 20) - 16; i++) { const p = v === '[]' ? '[]' : `"${i % 10}":{}`; parts.push(p); len += p.length + 1; }
  return v === '[]' ? `{"prompt": [${parts.join(',')}]}` : `{"prompt": "a", "x": {${parts.join(',')}}}`;
});
const amp = await Promise.all(Array.from({ length: 64 }, (_, i) => {
  const b = bodies[i % 2];
  return exchange(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n${b}`);
}));
const hwm = status('VmHWM'), rssAfter = status('VmRSS');
const rejected = amp.filter((r) => r.status === 400 && /too_many_values|invalid_json/.test(r.body)).length;
console.log(`memory: 64 x 1 MiB bodies of tiny values: ${rejected} rejected with 400; VmRSS ${rssBefore} KiB before, ` +
            `peak ${hwm} KiB, ${rssAfter} KiB after`);
check(rejected === 64, `every amplifying body gets a 400 (${rejected}/64)`);
// README's bound: the idle server + connections x (max(2 x --max-body, 4 MiB) + 192 KiB) + 4 x 8 x max(--max-body, 4 MiB)
const bound = rssBefore + 64 * (4096 + 192) + 4 * 8 * 4096; // KiB, for these 64 connections
if (process.env.ALAB_SANITIZE === 'ON') console.log('sanitizer build: the memory bound is not checked');
else check(hwm < bound, `peak resident memory ${hwm} KiB under the documented ${bound} KiB`);

// ---- 3. 500 concurrent connections ----
const many = await Promise.all(Array.from({ length: 500 }, (_, i) => exchange(completion(`Hi ${i}`, 16), { timeoutMs: 60000 })));
const ok = many.filter((r) => r.status === 200).length;
const busy = many.filter((r) => r.status === 503 && /retry-after: \d+/i.test(r.headers) && JSON.parse(r.body).error).length;
const other = many.filter((r) => r.status !== 200 && !(r.status === 503)).map((r) => r.error || r.status);
console.log(`500 connections: ${ok} answered 200, ${busy} 503 with Retry-After, ${other.length} other ${JSON.stringify(other.slice(0, 5))}`);
check(ok + busy === 500, `every connection gets 200 or 503 with Retry-After (${ok} + ${busy} of 500)`);
check(ok > 0, 'some requests are served under overload');
check((await fetch(srv.url + '/health')).status === 200, 'still serving');
const st = await srv.stop();
check(st.code === 0, 'clean shutdown');
done();
}

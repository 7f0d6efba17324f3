// The client half of bench_serve.sh: the same REQUESTS completions (short
// prompts, max_tokens TOKENS, greedy) sent by one client one after another,
// then by CLIENTS concurrent clients; prints requests/s, generated tokens/s
// and the ratio. Usage: node bench_serve_client.mjs URL [REQUESTS TOKENS CLIENTS]
const [url, nreq = 48, ntok = 32, nclients = 8] = [process.argv[2], ...process.argv.slice(3).map(Number)];
const reqs = Array.from({ length: nreq }, (_, i) => ({ prompt: `Once upon a time ${i}`, max_tokens: ntok, temperature: 0 }));

async function send(r) {
  const res = await fetch(url + '/v1/completions', { method: 'POST', body: JSON.stringify(r), headers: { 'content-type': 'application/json' } });
  const j = await res.json();
  if (res.status !== 200) throw new Error(JSON.stringify(j));
  return j.usage.completion_tokens;
}

async function run(clients) {
  let next = 0, tokens = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < reqs.length) {
      const t = await send(reqs[next++]); // (not "tokens += await": that reads tokens before the wait)
      tokens += t;
    }
  }));
  const s = (performance.now() - t0) / 1000;
  return { s, rps: reqs.length / s, tps: tokens / s, tokens };
}

await send(reqs[0]); // warm-up
const one = await run(1), many = await run(nclients);
const fmt = (x) => `${x.rps.toFixed(2)} requests/s, ${x.tps.toFixed(1)} tokens/s (${x.tokens} tokens in ${x.s.toFixed(2)} s)`;
console.log(`1 sequential client : ${fmt(one)}`);
console.log(`${nclients} concurrent clients: ${fmt(many)}`);
console.log(`ratio (concurrent / sequential): requests ${(many.rps / one.rps).toFixed(2)}x, tokens ${(many.tps / one.tps).toFixed(2)}x`);

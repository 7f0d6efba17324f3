// The npm `openai` client against `alab serve`: completions, streaming, chat
// (plain and streamed), echo log-probs equal to `alab score --text` (1e-5),
// OpenAI errors for bad requests (and the server keeps serving), the API key,
// and a fuzz of mutated request bodies over HTTP that must never crash the
// server or get anything but a 2xx or a 4xx JSON error.
import OpenAI from 'openai';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { makeModel, startServer, check, done } from './serve_helper.mjs';

const dir = makeModel('serve_openai_node');
const srv = await startServer(dir, ['--workers', '2']);
const client = new OpenAI({ baseURL: srv.url + '/v1', apiKey: 'unused', maxRetries: 0 });

// completions: plain, then streamed with the same seed gives the same text
const req = { model: 'tiny', prompt: 'Hello, world', max_tokens: 20, temperature: 0.8, seed: 11, n: 2 };
const plain = await client.completions.create(req);
check(plain.object === 'text_completion' && plain.choices.length === 2, 'completion shape');
check(plain.usage.completion_tokens > 0 && plain.usage.total_tokens === plain.usage.prompt_tokens + plain.usage.completion_tokens,
      'usage adds up');
const texts = ['', ''];
let usage = null, finishes = 0, chunks = 0;
for await (const chunk of await client.completions.create({ ...req, stream: true })) {
  chunks++;
  for (const c of chunk.choices) { texts[c.index] += c.text; if (c.finish_reason) finishes++; }
  if (chunk.usage) usage = chunk.usage;
}
check(chunks > 3 && finishes === 2, `streamed ${chunks} chunks, ${finishes} finishes`);
check(texts[0] === plain.choices[0].text && texts[1] === plain.choices[1].text, 'streamed text equals the plain text');
check(usage && usage.completion_tokens === plain.usage.completion_tokens, 'usage in the last chunk');

// echo log-probs against `alab score --text` on the same model
const text = 'The quick brown fox jumps over the lazy dog.';
const echo = await client.completions.create({ model: 'tiny', prompt: text, max_tokens: 0, echo: true, logprobs: 1 });
const lp = echo.choices[0].logprobs;
const score = JSON.parse(execFileSync(process.env.ALAB_BIN, ['score', '--model', dir, '--text', text]).toString().trim().split('\n').pop());
check(echo.choices[0].text === text, 'echo text');
check(lp.token_logprobs.length === score.token_logprobs.length && lp.token_logprobs[0] === null, 'echo length and first null');
let maxdiff = 0;
for (let i = 1; i < score.token_logprobs.length; i++) maxdiff = Math.max(maxdiff, Math.abs(lp.token_logprobs[i] - score.token_logprobs[i]));
check(maxdiff <= 1e-5, `echo log-probs equal alab score (max diff ${maxdiff})`);
for (let i = 1; i < lp.tokens.length; i++)
  check(lp.top_logprobs[i][lp.tokens[i]] === lp.token_logprobs[i], `top_logprobs ${i} holds the chosen token`);

// chat, plain and streamed
const chatReq = { model: 'tiny', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi!' }],
                  max_tokens: 12, seed: 5, temperature: 0.7 };
const chat = await client.chat.completions.create(chatReq);
check(chat.object === 'chat.completion' && chat.choices[0].message.role === 'assistant' &&
      typeof chat.choices[0].message.content === 'string', 'chat shape');
let streamed = '', role = null;
for await (const chunk of await client.chat.completions.create({ ...chatReq, stream: true })) {
  for (const c of chunk.choices) { if (c.delta.role) role = c.delta.role; streamed += c.delta.content || ''; }
}
check(role === 'assistant' && streamed === chat.choices[0].message.content, 'streamed chat equals plain chat');

// bad requests: OpenAI errors with 4xx, the server keeps serving
async function expectStatus(p, status, what) {
  try { await p; check(false, what + ': no error'); } catch (e) {
    check(e.status === status && e.error && typeof e.error.message === 'string', `${what}: status ${e.status} (want ${status})`);
  }
}
await expectStatus(client.completions.create({ model: 'gpt-4', prompt: 'x' }), 404, 'unknown model');
await expectStatus(client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: -1 }), 400, 'negative max_tokens');
await expectStatus(client.completions.create({ model: 'tiny', prompt: [1, 99999] }), 400, 'token id out of range');
await expectStatus(client.completions.create({ model: 'tiny', prompt: 'x', temperature: 'hot' }), 400, 'wrong type');
const raw = await fetch(srv.url + '/v1/completions', { method: 'POST', body: '{"prompt": "x",', headers: { 'content-type': 'application/json' } });
check(raw.status === 400 && (await raw.json()).error.code === 'invalid_json', 'invalid JSON');

// fuzz: mutated bodies over HTTP
const seeds = [JSON.stringify({ ...req, echo: true, logprobs: 2, stop: ['\n', 'ab'] }),
               JSON.stringify({ ...chatReq, logprobs: true, top_logprobs: 2 }),
               JSON.stringify({ prompt: [[1, 2, 3], [4, 5]], max_tokens: 1, echo: true, logprobs: 1, temperature: 0 })];
const pieces = ['{', '}', '[', ']', ',', ':', '"', 'null', 'true', '-1', '1e999', '\\u0000', '"prompt"', '"n"', '[[', '\u00ff', '99999999999999999999'];
let rng = 12345;
const rand = (n) => { rng = (rng * 1103515245 + 12345) % 2147483648; return rng % n; };
let bad = 0;
for (let it = 0; it < 300; it++) {
  let s = seeds[it % 3];
  for (let k = 0, edits = 1 + rand(4); k < edits; k++) {
    const at = rand(s.length + 1), op = rand(4);
    if (op === 0) s = s.slice(0, at) + String.fromCharCode(rand(256)) + s.slice(at + 1);
    else if (op === 1) s = s.slice(0, at) + s.slice(at + 1 + rand(8));
    else if (op === 2) s = s.slice(0, at) + pieces[rand(pieces.length)] + s.slice(at);
    else s = s.slice(0, at);
  }
  const path = it % 3 === 1 ? '/v1/chat/completions' : ['/v1/completions', '/tokenize', '/detokenize'][rand(3)];
  const r = await fetch(srv.url + path, { method: 'POST', body: s });
  const body = await r.text();
  if (r.status >= 500 || (r.status >= 400 && !JSON.parse(body).error)) bad++;
}
check(bad === 0 && srv.alive(), `fuzz: ${bad} responses were not 2xx or 4xx JSON errors`);
const health = await fetch(srv.url + '/health');
check(health.status === 200, 'still serving');
await srv.stop();

// API key: every endpoint but /health needs it
const keyed = await startServer(dir, ['--api-key', 'k3y']);
const noKey = new OpenAI({ baseURL: keyed.url + '/v1', apiKey: 'wrong', maxRetries: 0 });
await expectStatus(noKey.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 1 }), 401, 'wrong API key');
await expectStatus(noKey.models.list(), 401, 'wrong API key on models');
const withKey = new OpenAI({ baseURL: keyed.url + '/v1', apiKey: 'k3y', maxRetries: 0 });
const models = await withKey.models.list();
check(models.data[0].id === 'tiny' && models.data[0].context_length === 128, 'models with the key');
check((await fetch(keyed.url + '/health')).status === 200, '/health needs no key');
check((await fetch(keyed.url + '/tokenizer_info')).status === 401, 'tokenizer_info needs the key');
await keyed.stop();

// the key from the environment or a file (not on the command line, where ps shows it); an empty key is refused
const fromEnv = await startServer(dir, [], { ...process.env, ALAB_SERVE_API_KEY: 'envk3y' });
check((await new OpenAI({ baseURL: fromEnv.url + '/v1', apiKey: 'envk3y', maxRetries: 0 }).models.list()).data.length === 1,
      'key from ALAB_SERVE_API_KEY');
await expectStatus(new OpenAI({ baseURL: fromEnv.url + '/v1', apiKey: '', maxRetries: 0 }).models.list(), 401, 'empty Bearer');
await fromEnv.stop();
const keyFile = dir + '.key';
writeFileSync(keyFile, 'filek3y\n');
const fromFile = await startServer(dir, ['--api-key-file', keyFile]);
check((await new OpenAI({ baseURL: fromFile.url + '/v1', apiKey: 'filek3y', maxRetries: 0 }).models.list()).data.length === 1,
      'key from --api-key-file (its first line)');
await fromFile.stop();
for (const [args, env] of [[['--api-key', ''], process.env], [[], { ...process.env, ALAB_SERVE_API_KEY: '' }]]) {
  const r = spawnSync(process.env.ALAB_BIN, ['serve', '--model', dir, '--port', '0', ...args], { env, timeout: 20000 });
  check(r.status === 2 && /API key is empty/.test(r.stderr.toString()), `an empty key is a usage error (exit ${r.status})`);
}
done();

// POST /classify and /v1/classify on a reward model served by `alab serve`,
// through Node's fetch (a real HTTP client), in vLLM's request/response
// shape. Oracle: `alab rm score --text` on the same directory (whose rewards
// tests/test_rm.c checks against PyTorch reading the directory as
// transformers does) and /tokenize for the token counts. Bad requests get a
// 400 (404 for another model) naming the field.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeModel, startServer, check, done } from './serve_helper.mjs';

const bin = process.env.ALAB_BIN;
const lm = makeModel('classify');
const root = path.dirname(lm);
const pairs = path.join(root, 'pairs.jsonl'), rm = path.join(root, 'rm');
writeFileSync(pairs, [
  { prompt: 'The sky is', chosen: ' blue.', rejected: ' green.' },
  { prompt: 'Grass is', chosen: ' green.', rejected: ' blue.' },
].map((x) => JSON.stringify(x)).join('\n') + '\n');
execFileSync(bin, ['rm', 'train', '--data', pairs, '--init', lm, '--out', rm, '--steps', '3', '--val-frac', '0', '--quiet',
  '--threads', '1', '--seq-len', '32', '--batch', '2', '--warmup', '0', '--ckpt-every', '0'], { stdio: 'inherit' });

const texts = ['The sky is blue.', 'Grass is blue.', 'Once upon a time, there was a cat.'];
const oracle = texts.map((t) => +execFileSync(bin, ['rm', 'score', '--model', rm, '--text', t, '--threads', '1']).toString().trim());

async function post(url, body) {
  const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, json: await r.json() };
}

const srv = await startServer(rm);
try {
  const r = await post(srv.url + '/v1/classify', { model: 'rm', input: texts });
  check(r.status === 200, `classify: status ${r.status} ${JSON.stringify(r.json)}`);
  const j = r.json;
  check(/^classify-\d+$/.test(j.id) && j.object === 'list' && j.model === 'rm' && typeof j.created === 'number', 'envelope');
  check(j.data.length === 3, 'one result per input');
  let tokens = 0;
  for (let i = 0; i < texts.length; i++) {
    const d = j.data[i];
    check(d.index === i && d.label === 'LABEL_0' && d.num_classes === 1 && d.probs.length === 1, `data[${i}] shape`);
    check(Math.abs(d.reward - oracle[i]) < 2e-6, `data[${i}].reward ${d.reward} vs alab rm score ${oracle[i]}`);
    check(Math.abs(d.probs[0] - 1 / (1 + Math.exp(-d.reward))) < 1e-9, `data[${i}].probs is sigmoid(reward)`);
    const t = await post(srv.url + '/tokenize', { prompt: texts[i] });
    tokens += t.json.count;
  }
  check(j.usage.prompt_tokens === tokens && j.usage.total_tokens === tokens && j.usage.completion_tokens === 0,
    `usage ${JSON.stringify(j.usage)} vs ${tokens} tokens`);
  const raw = await post(srv.url + '/classify', { input: texts[0], use_activation: false });
  check(raw.status === 200 && raw.json.data.length === 1 && raw.json.data[0].probs[0] === raw.json.data[0].reward &&
        Math.abs(raw.json.data[0].reward - oracle[0]) < 2e-6, '/classify, one string, use_activation false: the raw reward');

  const long = 'word '.repeat(2000);
  const bad = [
    [{}, 400, 'input', 'input'],
    [{ input: 5 }, 400, 'input', 'input'],
    [{ input: [] }, 400, 'input', 'non-empty'],
    [{ input: ['ok', 3] }, 400, 'input', 'input[1]'],
    [{ input: [''] }, 400, 'input', 'input[0]'],
    [{ input: [long] }, 400, 'input', 'tokens'],
    [{ input: 'x', use_activation: 'yes' }, 400, 'use_activation', 'use_activation'],
    [{ input: 'x', model: 'other' }, 404, 'model', 'other'],
    ['{"input": ', 400, null, 'JSON'],
    ['[1, 2]', 400, null, 'object'],
  ];
  for (const [body, status, param, words] of bad) {
    const b = await post(srv.url + '/v1/classify', body);
    check(b.status === status && (b.json.error.param ?? null) === param && b.json.error.message.includes(words),
      `${JSON.stringify(body).slice(0, 60)}: ${b.status} ${JSON.stringify(b.json.error).slice(0, 300)}`);
  }
  check(srv.alive(), 'the server survives bad requests');
} finally {
  await srv.stop();
}

// a language model (no scalar head) refuses /classify
const lmSrv = await startServer(lm);
try {
  const b = await post(lmSrv.url + '/v1/classify', { input: 'The sky is blue.' });
  check(b.status === 400 && b.json.error.message.includes('score.weight'), `LM: ${b.status} ${JSON.stringify(b.json)}`);
} finally {
  await lmSrv.stop();
}
done();

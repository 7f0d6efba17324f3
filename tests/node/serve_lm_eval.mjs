// lm-evaluation-harness's requests (lm_eval_client.mjs stands in for it)
// against the real `alab serve`, on a model of the README model's shape
// (context 128) whose end-of-text token is often the greedy next token:
//   - loglikelihood equals `alab score` (1e-5) with the same is_greedy, for
//     continuations after which end-of-text is the greedy token and for ones
//     after which it is not (lm-eval drops the last returned token, assuming it
//     is the generated one: the server must return it even when it is
//     end-of-text);
//   - loglikelihood_rolling equals `alab score` of the text after <|endoftext|>;
//   - generate_until equals `alab sample` (greedy) cut at the stop strings;
//   - the README's lm_eval command, its --model_args read from README.md as
//     written, runs every kind of request (contexts longer than the model's
//     context included) without one failed request.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeModel, startServer, check, done } from './serve_helper.mjs';
import { LmEvalClient, parseModelArgs } from './lm_eval_client.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = makeModel('serve_lm_eval_node', ['eot'], 'm1'); // served as "m1", like runs/m1
const srv = await startServer(dir, ['--workers', '2']);
const alab = (...a) => execFileSync(process.env.ALAB_BIN, a, { maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'ignore'] }).toString();

// the README's command: lm_eval --model local-completions --model_args ARGS --tasks ...
const readme = readFileSync(path.join(here, '../../README.md'), 'utf8');
const m = readme.match(/lm_eval --model local-completions\s*\\\s*\n\s*--model_args (\S+)/);
check(m, 'README has an lm_eval --model local-completions command');
const readmeArgs = parseModelArgs(m ? m[1] : '');
readmeArgs.base_url = String(readmeArgs.base_url).replace(/\/\/[^/]+/, '//127.0.0.1:' + srv.port);
console.log('README model_args:', JSON.stringify(readmeArgs));

// texts in the model's vocabulary; each split into context + continuation at its last space
const words = 'the quick brown fox jumps over lazy dog cat sat on mat log Alice is mother of Bob son Hello world again'.split(' ');
let x = 7;
const rnd = (n) => (x = (x * 1103515245 + 12345) % 2147483648) % n;
const texts = [];
for (let i = 0; i < 60; i++) {
  const n = 3 + rnd(8);
  texts.push(Array.from({ length: n }, () => words[rnd(words.length)]).join(' ') + ['.', '', ',', '!'][rnd(4)]);
}
const split = (t) => { const k = t.lastIndexOf(' '); return [t.slice(0, k), t.slice(k)]; };

// oracles: alab score, one process for every pair
const tmp = path.join(path.dirname(dir), 'pairs.jsonl');
const score = (pairs) => {
  writeFileSync(tmp, pairs.map(([p, c]) => JSON.stringify({ prompt: p, continuation: c })).join('\n') + '\n');
  return alab('score', '--model', dir, '--input', tmp).trim().split('\n').map((l) => JSON.parse(l));
};
const eotGreedy = score(texts.map((t) => [t, '<|endoftext|>'])).map((r) => r.is_greedy);

// loglikelihood with lm-eval's defaults but max_length of the model's context
const lm = await new LmEvalClient({ model: 'm1', base_url: srv.url + '/v1/completions', num_concurrent: 4,
                                    tokenized_requests: true, max_length: 128 }).init();
const pairs = texts.map(split);
// and greedy continuations (alab sample's), where lm-eval's split of the whole text keeps the tokens apart
for (const t of texts.slice(0, 12)) {
  const ctx = split(t)[0];
  const cont = alab('sample', '--model', dir, '--prompt', ctx, '--tokens', '3', '--temperature', '0', '--stop-at-eot')
    .slice(ctx.length).replace(/\n$/, '');
  const [a, b] = await lm.encodePair(ctx, cont);
  if (cont && JSON.stringify(a.concat(b)) === JSON.stringify((await lm.encode(ctx)).concat(await lm.encode(cont)))) {
    pairs.push([ctx, cont]);
    eotGreedy.push(score([[ctx + cont, '<|endoftext|>']])[0].is_greedy);
  }
}
const want = score(pairs), got = await lm.loglikelihood(pairs);
const nEot = eotGreedy.filter(Boolean).length;
console.log(`${nEot} of ${pairs.length} texts end at end-of-text (it is the greedy next token); ` +
            `${want.filter((w) => w.is_greedy).length} continuations are greedy`);
check(nEot >= 5 && pairs.length - nEot >= 5, `both kinds of text: ${nEot} end at end-of-text, ${pairs.length - nEot} do not`);
for (const kind of [true, false]) {
  let n = 0, maxdiff = 0, greedyOk = 0;
  pairs.forEach((p, i) => {
    if (eotGreedy[i] !== kind) return;
    n++;
    maxdiff = Math.max(maxdiff, Math.abs(got[i][0] - want[i].logprob));
    greedyOk += got[i][1] === want[i].is_greedy;
  });
  const what = kind ? 'ending at end-of-text' : 'not ending at end-of-text';
  console.log(`loglikelihood, ${n} texts ${what}: max |lm-eval - alab score| = ${maxdiff.toExponential(2)}, is_greedy equal ${greedyOk}/${n}`);
  check(maxdiff <= 1e-5, `loglikelihood of texts ${what} equals alab score (max diff ${maxdiff})`);
  check(greedyOk === n, `is_greedy of texts ${what} equals alab score's (${greedyOk}/${n})`);
}
check(got.every((g, i) => g[3] === g[2] + 1), 'every answer holds the prompt tokens and one generated token');
check(want.some((w) => w.is_greedy) && want.some((w) => !w.is_greedy), 'both greedy and non-greedy continuations');

// rolling log-likelihood of whole texts: the first window starts after <|endoftext|>
const rollWant = score(texts.slice(0, 20).map((t) => ['<|endoftext|>', t]));
let rollDiff = 0;
for (let i = 0; i < 20; i++) rollDiff = Math.max(rollDiff, Math.abs((await lm.loglikelihoodRolling(texts[i])) - rollWant[i].logprob));
console.log(`loglikelihood_rolling, 20 texts: max diff ${rollDiff.toExponential(2)}`);
check(rollDiff <= 1e-5, `rolling log-likelihood equals alab score (max diff ${rollDiff})`);

// generate_until: greedy text up to the first stop string
const gens = texts.slice(0, 8).map((t) => [t, { until: ['.', '\n\n'], max_gen_toks: 20 }]);
const gotGen = await lm.generateUntil(gens);
let genOk = 0;
gens.forEach(([ctx, kw], i) => {
  let s = alab('sample', '--model', dir, '--prompt', ctx, '--tokens', '20', '--temperature', '0', '--stop-at-eot');
  s = s.slice(ctx.length).replace(/\n$/, '');
  for (const u of kw.until) if (s.includes(u)) s = s.slice(0, s.indexOf(u));
  if (s === gotGen[i]) genOk++;
  else console.error(`generate_until ${i}: server '${gotGen[i]}' vs alab sample '${s}'`);
});
check(genOk === gens.length, `generate_until equals alab sample cut at the stops (${genOk}/${gens.length})`);

// the README's command as written: contexts beyond the model's context, long texts, lm-eval's generation settings
const readmeLm = await new LmEvalClient(readmeArgs).init();
const long = Array.from({ length: 12 }, (_, i) => texts.slice(i, i + 30).join(" ")); // about 270 tokens
let readmeOk = true;
check((await readmeLm.encode(long[0])).length > 200, 'the long contexts are well over the model context');
try {
  await readmeLm.loglikelihood(long.map(split));
  for (const t of long.slice(0, 3)) await readmeLm.loglikelihoodRolling(t);
  await readmeLm.generateUntil(long.map((t) => [t, { until: ['\n\n'] }]));
  await readmeLm.generateUntil(texts.slice(0, 4).map((t) => [t, { until: ['.'] }]));
} catch (e) {
  readmeOk = false;
  console.error(e.message);
}
check(readmeOk && readmeLm.failures.length === 0,
      `the README's lm_eval settings run without a failed request (${readmeLm.requests} requests, ${readmeLm.failures.length} failed)`);
const st = await srv.stop();
check(st.code === 0, 'clean shutdown');
done();

// A stand-in for lm-evaluation-harness's `local-completions` model (its
// TemplateAPI + LocalCompletionsAPI), written from what that client sends and
// how it reads the answers, so the tests can run lm-eval's requests without
// Python's lm_eval:
//   model_args: model, base_url, num_concurrent, tokenized_requests,
//     max_length (default 2048; lm-eval keeps max_length - 1 for a request),
//     max_gen_toks (default 256), batch_size (1), tokenizer_backend (auto:
//     "remote" when /tokenizer_info has eos_token and /tokenize answers),
//     auth_token (sent only to the tokenizer endpoints), seed (1234);
//     the completions themselves carry "Authorization: Bearer $OPENAI_API_KEY".
//   loglikelihood(context, continuation): tokens of context + continuation
//     (context's trailing spaces moved to the continuation, the whole encoded
//     once and split after the context's tokens; an empty context is the
//     prefix token), left-cut to max_length - 1; payload {model, prompt: [ids],
//     temperature 0, max_tokens 1, logprobs 1, seed, echo true}; answer:
//     sum(token_logprobs[ctxlen:-1]), greedy when each of those equals
//     max(top_logprobs[i].values()).
//   loglikelihood_rolling(text): windows of at most max_length - 2 predicted
//     tokens, the first after the prefix token, each later one with the
//     tokens before it as context (disjoint), summed.
//   generate_until(context, {until, max_gen_toks}): context ids left-cut to
//     max_length - 1 - max_gen_toks (a Python slice x[-k:], so k <= 0 keeps
//     x[|k|:]); payload {prompt: [ids], model, max_tokens, temperature 0,
//     stop: until + [eos string], seed}; answer: choices[].text.
// A request that fails is retried (max_retries, 3) and then the run aborts,
// as lm-eval does.

export function parseModelArgs(s) { // "a=1,b=True" -> {a: 1, b: true}
  const out = {};
  for (const kv of s.split(',').filter(Boolean)) {
    const [k, ...rest] = kv.split('=');
    const v = rest.join('=');
    out[k] = v.toLowerCase() === 'true' ? true : v.toLowerCase() === 'false' ? false : /^\d+$/.test(v) ? +v : v;
  }
  return out;
}

const sliceFrom = (x, k) => (k < 0 ? x.slice(Math.max(0, x.length + k)) : x.slice(k)); // Python x[k:]

export class LmEvalClient {
  constructor(args) {
    this.model = args.model;
    this.baseUrl = args.base_url;
    this.server = this.baseUrl.replace('/v1/completions', '').replace('/v1/chat/completions', '').replace(/\/$/, '');
    this.concurrent = Math.max(1, args.num_concurrent ?? 1);
    this.tokenized = args.tokenized_requests ?? true;
    this.maxLength = (args.max_length ?? 2048) - 1;
    this.maxGenToks = args.max_gen_toks ?? 256;
    this.seed = args.seed ?? 1234;
    this.authToken = args.auth_token;
    this.maxRetries = args.max_retries ?? 3;
    this.backend = args.tokenizer_backend ?? 'auto';
    this.requests = 0;
    this.failures = [];
  }

  async tokPost(path, body) {
    const headers = { 'content-type': 'application/json' };
    if (this.authToken) headers.authorization = `Bearer ${this.authToken}`;
    const r = await fetch(this.server + path, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status} ${await r.text()}`);
    return r.json();
  }

  async init() {
    const headers = this.authToken ? { authorization: `Bearer ${this.authToken}` } : {};
    const r = await fetch(this.server + '/tokenizer_info', { headers });
    const info = r.ok ? await r.json() : null;
    if (!info || !('eos_token' in info)) {
      if (this.backend === 'remote') throw new Error(`remote tokenizer: /tokenizer_info answered ${r.status}`);
      throw new Error('no remote tokenizer: lm-eval would fall back to a Hugging Face tokenizer named ' + this.model);
    }
    this.eosString = info.eos_token;
    this.prefixToken = (await this.encode(info.bos_token ?? info.eos_token))[0];
    return this;
  }

  async encode(text) { return (await this.tokPost('/tokenize', { prompt: text, add_special_tokens: false })).tokens; }

  async encodePair(context, continuation) {
    if (context === '') return [[this.prefixToken], await this.encode(continuation)];
    const n = context.length - context.trimEnd().length;
    if (n > 0) { continuation = context.slice(-n) + continuation; context = context.slice(0, -n); }
    const whole = await this.encode(context + continuation), ctx = await this.encode(context);
    return [ctx, whole.slice(ctx.length)];
  }

  async post(payload) { // with lm-eval's retries; a last failure aborts the run
    let last;
    for (let a = 0; a < this.maxRetries; a++) {
      this.requests++;
      const r = await fetch(this.baseUrl, {
        method: 'POST', body: JSON.stringify(payload),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.OPENAI_API_KEY ?? ''}` } });
      if (r.ok) return r.json();
      last = `HTTP ${r.status}: ${await r.text()}`;
    }
    this.failures.push(last);
    throw new Error('lm-eval would abort: ' + last);
  }

  async pool(items, fn) { // num_concurrent requests in flight
    const out = new Array(items.length);
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(this.concurrent, items.length) }, async () => {
      while (next < items.length) { const i = next++; out[i] = await fn(items[i], i); }
    }));
    return out;
  }

  // pairs of token lists [ctx, cont] -> [logprob, isGreedy]
  async loglikelihoodTokens(pairs) {
    return this.pool(pairs, async ([ctx, cont]) => {
      const all = ctx.concat(cont), inp = all.slice(-this.maxLength);
      const ctxlen = ctx.length - Math.max(0, ctx.length + cont.length - this.maxLength);
      const out = await this.post({ model: this.model, prompt: [inp], temperature: 0, max_tokens: 1, logprobs: 1,
                                    seed: this.seed, echo: true });
      const ch = out.choices.sort((a, b) => a.index - b.index)[0].logprobs;
      const lps = ch.token_logprobs.slice(ctxlen, -1), tops = ch.top_logprobs.slice(ctxlen, -1);
      let sum = 0, greedy = true;
      lps.forEach((lp, i) => { sum += lp; if (lp !== Math.max(...Object.values(tops[i]))) greedy = false; });
      return [sum, greedy, inp.length, ch.token_logprobs.length];
    });
  }

  async loglikelihood(requests) { // [[context, continuation]]
    const pairs = [];
    for (const [c, k] of requests) pairs.push(await this.encodePair(c, k));
    return this.loglikelihoodTokens(pairs);
  }

  // windows (context tokens, predicted tokens) covering every token once
  static rollingWindows(tokens, prefix, maxSeqLen) {
    const out = [];
    if (!tokens.length) return out;
    const first = Math.min(maxSeqLen, tokens.length);
    out.push([[prefix], tokens.slice(0, first)]); // [prefix] + tokens[:first-1], made disjoint
    for (let done = first; done < tokens.length;) {
      const n = Math.min(tokens.length - done, maxSeqLen), end = done + n;
      const ctx = tokens.slice(Math.max(0, end - maxSeqLen - 1), end - 1);
      out.push([ctx.slice(0, ctx.length - (n - 1)), tokens.slice(end - n, end)]);
      done = end;
    }
    return out;
  }

  async loglikelihoodRolling(text) {
    const windows = LmEvalClient.rollingWindows(await this.encode(text), this.prefixToken, this.maxLength - 1);
    const res = await this.loglikelihoodTokens(windows);
    return res.reduce((s, r) => s + r[0], 0);
  }

  async generateUntil(requests) { // [[context, {until, max_gen_toks}]]
    return this.pool(requests, async ([context, kw]) => {
      const maxGen = kw.max_gen_toks ?? this.maxGenToks;
      const until = [...(kw.until ?? [])];
      if (this.eosString && !until.includes(this.eosString)) until.push(this.eosString);
      const prompt = this.tokenized ? [sliceFrom(await this.encode(context), -(this.maxLength - maxGen))] : context;
      const out = await this.post({ prompt, model: this.model, max_tokens: maxGen, temperature: 0, stop: until,
                                    seed: this.seed });
      return out.choices[0].text;
    });
  }
}

// Benchmark peer: single-thread encoding throughput of npm tiktoken "gpt2"
// on a UTF-8 file, ordinary encoding (as alab's bench). Prints
// "tiktoken MB/s <x> tokens <n> seconds <s>" for the best of `reps` runs.
// usage: node tiktoken_bench.js in.txt [reps]
const fs = require("fs");
const { get_encoding } = require("tiktoken");
const buf = fs.readFileSync(process.argv[2]);
const reps = Number(process.argv[3] || 3);
const text = buf.toString("utf8");
const enc = get_encoding("gpt2");
let best = Infinity, n = 0;
for (let r = 0; r < reps; r++) {
  const t0 = process.hrtime.bigint();
  n = enc.encode_ordinary(text).length;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (s < best) best = s;
}
console.log(`tiktoken MB/s ${(buf.length / 1e6 / best).toFixed(2)} tokens ${n} seconds ${best.toFixed(3)}`);
enc.free();

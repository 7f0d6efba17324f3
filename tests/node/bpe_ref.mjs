// An independent byte-level BPE encoder (the tests' reference for alab's
// tokenizer.json reading): GPT-2's byte-to-unicode map, the tokenizer.json's
// Split regex (JavaScript, Unicode mode) with the text between matches kept
// as pieces ("Isolated"), then merges applied lowest rank first.
// usage: node bpe_ref.mjs tokenizer.json strings.json  -> prints [[ids...], ...]
import { readFileSync } from "node:fs";

const tj = JSON.parse(readFileSync(process.argv[2], "utf8"));
const strings = JSON.parse(readFileSync(process.argv[3], "utf8"));
const byteChar = [];
{
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  bs.forEach((b, i) => { byteChar[b] = String.fromCodePoint(cs[i]); });
}
const vocab = tj.model.vocab;
const rank = new Map();
tj.model.merges.forEach((m, i) => rank.set(Array.isArray(m) ? m.join(" ") : m, i));
const re = new RegExp(tj.pre_tokenizer.pretokenizers[0].pattern.Regex, "gu");

function pieces(text) {
  const out = [];
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    if (m[0].length) out.push(m[0]);
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

function bpe(piece) {
  let sym = [...Buffer.from(piece, "utf8")].map((b) => byteChar[b]);
  for (;;) {
    let best = -1, bestRank = Infinity;
    for (let i = 0; i + 1 < sym.length; i++) {
      const r = rank.get(sym[i] + " " + sym[i + 1]);
      if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
    }
    if (best < 0) break;
    sym.splice(best, 2, sym[best] + sym[best + 1]);
  }
  return sym.map((s) => {
    if (!(s in vocab)) throw new Error("no id for " + s);
    return vocab[s];
  });
}

console.log(JSON.stringify(strings.map((s) => pieces(s).flatMap(bpe))));

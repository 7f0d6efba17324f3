"""Reference for llama2.c's tokenizer.bin (tests/test_llama_tok.c).

Writes OUT/tokenizer.bin, a SentencePiece-style vocabulary learnt here from a
small corpus (<unk>, "\\n<s>\\n", "\\n</s>\\n", the 256 byte-fallback pieces
<0x00>..<0xFF>, the corpus's characters except a few left to byte fallback,
then BPE merges with scores, some of them tied and one below -1e10), and
OUT/expected.json: for each test text (hex), the ids of run.c's encoding
written plainly here: start (BOS 1, the dummy-prefix " ", the text) and
cont (the text alone), each by the quadratic best-pair loop of run.c.

usage: llama2c_tok.py OUT
"""
import json
import struct
import sys

CORPUS = ("Once upon a time there was a little cat. The cat sat on the mat. "
          "the other cat said hello to the little dog, and the dog ran to the tree. "
          "café crème, über alles; naïve résumé. 中文 中文 一 二 三 ") * 3
LEFT_OUT = set("zqé三")  # characters that must go through byte fallback


def unit_len(b, p):
    """Bytes of the code point at p: a valid UTF-8 sequence, else one byte."""
    lead = b[p]
    k = 1 if lead < 0x80 else 2 if lead >> 5 == 6 else 3 if lead >> 4 == 14 else 4 if lead >> 3 == 30 else 1
    try:
        b[p:p + k].decode("utf-8")
        return k if p + k <= len(b) else 1
    except UnicodeDecodeError:
        return 1


def build():
    pieces = [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [b"<0x%02X>" % i for i in range(256)]
    scores = [0.0] * len(pieces)
    chars = sorted(set(CORPUS) - LEFT_OUT)
    for i, c in enumerate(chars):
        pieces.append(c.encode())
        scores.append(-1000.0 - i)
    # BPE over words, a word keeping its leading space (SentencePiece's U+2581)
    words = {}
    for w in CORPUS.replace(" ", "\n ").split("\n"):
        if w:
            words[tuple(w)] = words.get(tuple(w), 0) + 1
    merges = 0
    while merges < 70:
        count = {}
        for w, n in words.items():
            for a, b in zip(w, w[1:]):
                count[(a, b)] = count.get((a, b), 0) + n
        if not count:
            break
        (a, b), _ = max(sorted(count.items()), key=lambda kv: kv[1])
        new = a + b
        pieces.append(new.encode())
        scores.append(-float(merges // 2))  # pairs of merges tie: leftmost wins in run.c
        merges += 1
        nw = {}
        for w, n in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            nw[tuple(out)] = nw.get(tuple(out), 0) + n
        words = nw
    pieces.append(b"at on")  # scores too low ever to merge
    scores.append(-2e10)
    pieces.append(b" ")  # a duplicate piece: the first id is the one found
    scores.append(5.0)
    return pieces, [struct.unpack("<f", struct.pack("<f", s))[0] for s in scores]


def encode(text, pieces, scores, ids, prefix):
    toks = [ids[b" "]] if prefix and text else []
    p = 0
    while p < len(text):
        k = unit_len(text, p)
        u = text[p:p + k]
        toks += [ids[u]] if u in ids else [ids[b"<0x%02X>" % c] for c in u]
        p += k
    while True:
        best = None
        for i in range(len(toks) - 1):
            j = ids.get(pieces[toks[i]] + pieces[toks[i + 1]])
            if j is not None and scores[j] > -1e10 and (best is None or scores[j] > best[0]):
                best = (scores[j], i, j)
        if best is None:
            return toks
        toks[best[1]:best[1] + 2] = [best[2]]


def main():
    out = sys.argv[1]
    pieces, scores = build()
    ids = {}
    for i, pc in enumerate(pieces):
        ids.setdefault(pc, i)
    with open(out + "/tokenizer.bin", "wb") as f:
        f.write(struct.pack("<i", max(len(pc) for pc in pieces)))
        for pc, s in zip(pieces, scores):
            f.write(struct.pack("<fi", s, len(pc)) + pc)
    texts = [b"", b"Once upon a time", b"the cat sat on the mat.", b" leading and  double  spaces ",
             "café über naïve 中文 三 zq 🙂".encode(), b"\n\ttabs\r\n", b"\xff\xfe bad \xc3( utf8 \xe4\xb8",
             b"at on", b"hello " * 40, CORPUS[:200].encode()]
    exp = {"vocab": len(pieces), "texts": [t.hex() for t in texts],
           "start": [[1] + encode(t, pieces, scores, ids, True) for t in texts],
           "cont": [encode(t, pieces, scores, ids, False) for t in texts]}
    with open(out + "/expected.json", "w") as f:
        json.dump(exp, f)


main()

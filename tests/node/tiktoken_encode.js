// Oracle for the tokenizer tests: encodes a UTF-8 file with the npm tiktoken
// package's "gpt2" encoding, special tokens as text (out1) and allowed (out2),
// and writes the ids as little-endian int32.
// usage: node tiktoken_encode.js in.txt out_ordinary.bin out_special.bin
const fs = require("fs");
const { get_encoding } = require("tiktoken");
const [inPath, outPlain, outSpecial] = process.argv.slice(2);
const text = fs.readFileSync(inPath, "utf8");
const enc = get_encoding("gpt2");
const write = (path, ids) => fs.writeFileSync(path, Buffer.from(Int32Array.from(ids).buffer));
write(outPlain, enc.encode_ordinary(text));
write(outSpecial, enc.encode(text, "all"));
enc.free();

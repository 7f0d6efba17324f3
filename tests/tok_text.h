/* A deterministic, varied test text for the tokenizer (tests and bench):
 * prose in many scripts (Latin with accents precomposed and combining,
 * Greek, Cyrillic, Arabic, Hebrew, Devanagari, Thai, CJK, Hangul, ...),
 * invented words from each script's letters, contractions in both cases,
 * emoji (skin tones, ZWJ sequences, flags, keycaps), digits of several
 * kinds, whitespace runs (tabs, CR/LF, no-break and ideographic spaces),
 * code, URLs, long words and whitespace runs, and <|endoftext|> (plus near
 * misses). Same seed, same text. */
#ifndef ALAB_TOK_TEXT_H
#define ALAB_TOK_TEXT_H
#include <string.h>
#include "alab/base.h"

static const char *const tt_words[][24] = {
    {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "It's", "don't", "I'm", "we'll", "they're",
     "you've", "she'd", "IT'S", "DON'T", "Hello", "world", "tokenizer", "alignment", "model", "O'Neil", "rock'n'roll"},
    {"café", "naïve", "résumé", "über", "straße", "niño", "façade", "crème", "brûlée", "Ångström", "smörgåsbord",
     "cafe\xcc\x81", "nin\xcc\x83o", "Zo\xc3\xab", "Łódź", "Dvořák", "Ærø", "œuvre", "São", "Paulo", "İstanbul", "ğ",
     "đ", "ß"},
    {"Καλημέρα", "κόσμε", "λόγος", "Αθήνα", "Привет", "мир", "спасибо", "Москва", "ёжик", "Україна", "їжак", "Беларусь",
     "Ԁ", "ﬁ", "ǅ", "Ⅻ", "ǈ", "µ", "ΐ", "ѐ", "Σίσυφος", "ωμέγα", "щи", "ъ"},
    {"مرحبا", "بالعالم", "السلام", "عليكم", "שלום", "עולם", "תודה", "नमस्ते", "दुनिया", "हिन्दी", "क्षत्रिय", "ক্ষমা",
     "தமிழ்", "తెలుగు", "ಕನ್ನಡ", "ไทย", "สวัสดี", "ภาษา", "ລາວ", "မြန်မာ", "ខ្មែរ", "ქართული", "Հայերեն", "አማርኛ"},
    {"你好", "世界", "中文", "汉字", "漢字", "こんにちは", "世界", "カタカナ", "ひらがな", "東京", "ｶﾀｶﾅ", "안녕하세요", "세계",
     "한국어", "ㄱㄴㄷ", "〇", "𠀀", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𝟘𝟙𝟚", "각", "ꙮ", "ᚠᚢᚦ", "ᓄᓇᕗᑦ", "ꦧꦱ"},
    {"😀", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🇫🇷", "🇯🇵", "❤️", "1️⃣", "🏳️\u200d🌈", "🤖", "🔥🔥🔥", "✨", "☃",
     "♥", "→", "©", "®", "™", "°", "±", "½", "€", "£", "¥", "§"},
    {"0", "7", "42", "123", "2024", "3.14159", "1,000,000", "-17", "+3", "1e-9", "0x1F", "٣٤٥", "۱۲۳", "१२३",
     "１２３", "²", "³", "¼", "Ⅷ", "〸", "⑦", "๓", "12345678901234567890", "v1.2.3"},
    {"int main(void) {", "return 0;", "}", "for (i = 0; i < n; i++)", "x += y[i] * 2;", "def f(x):",
     "    return x**2", "if __name__ == '__main__':", "#include <stdio.h>", "printf(\"%d\\n\", x);",
     "{\"key\": [1, 2, null]}", "https://example.com/a?b=c&d=e#f", "user@example.org", "a->b", "a && b || !c",
     "// comment", "/* block */", "`code`", "**bold**", "<div class=\"x\">", "&amp;", "$PATH", "C:\\\\Windows", "~/.bashrc"},
};
static const char *const tt_spaces[] = {" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "  \n", " \t ",
                                        "\xc2\xa0", "\xe3\x80\x80", "\xe2\x80\x89", "\xe2\x80\x8b", "\n    ", "\n\t",
                                        "    ", "\f", "\v", "        \n\n   "};
static const char *const tt_punct[] = {".", ",", "!", "?", "...", ";", ":", "—", "–", "«", "»", "“", "”", "'",
                                       "\"", "(", ")", "[", "]", "¿", "¡", "。", "、", "!!!", "?!", "'s", "'t",
                                       "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", " '", "''"};
static const char *const tt_special[] = {"<|endoftext|>", "<|endoftext|><|endoftext|>", "<|endoftext", "<|",
                                         "|>", "<|endoftext|>\n", " <|endoftext|> ", "<|endoftext|>"};

static void tt_pick(al_buf *b, al_rng *r, const char *const *list, size_t n) {
  const char *s = list[al_rng_below(r, n)];
  al_buf_append(b, s, strlen(s));
}

/* An invented word: 1..8 characters of one word list's strings' characters. */
static void tt_invent(al_buf *b, al_rng *r, int lang) {
  int n = 1 + (int)al_rng_below(r, 8);
  for (int i = 0; i < n; i++) {
    const char *w = tt_words[lang][al_rng_below(r, 24)];
    size_t len = strlen(w), k = al_rng_below(r, len), e;
    while (k > 0 && ((unsigned char)w[k] & 0xC0) == 0x80) k--; /* a whole character */
    for (e = k + 1; e < len && ((unsigned char)w[e] & 0xC0) == 0x80; e++) {}
    al_buf_append(b, w + k, e - k);
  }
}

/* Appends text until b holds at least `bytes` bytes. with_special = 0 leaves
 * out the <|endoftext|> family. */
static void tt_generate(al_buf *b, uint64_t seed, size_t bytes, int with_special) {
  al_rng r;
  al_rng_seed(&r, seed);
  int nl = (int)(sizeof tt_words / sizeof tt_words[0]);
  while (b->len < bytes) {
    int kind = (int)al_rng_below(&r, 20);
    if (al_rng_below(&r, 200) == 0) { /* a long piece: BPE's heap path, long whitespace backtracking */
      uint64_t n = 49 + al_rng_below(&r, 600);
      if (al_rng_below(&r, 2)) for (; n > 0; n--) al_buf_append(b, al_rng_below(&r, 9) ? " " : "\t", 1);
      else for (int l = (int)al_rng_below(&r, 5); n > 0; n--) tt_invent(b, &r, l);
    } else if (kind < 12) { /* a sentence in one language, sometimes with a code-switch */
      int lang = kind < 6 ? 0 : (int)al_rng_below(&r, (uint64_t)nl), n = 3 + (int)al_rng_below(&r, 12);
      for (int i = 0; i < n; i++) {
        int l = al_rng_below(&r, 10) == 0 ? (int)al_rng_below(&r, (uint64_t)nl) : lang;
        if (al_rng_below(&r, 4) == 0) tt_invent(b, &r, l);
        else tt_pick(b, &r, tt_words[l], 24);
        if (al_rng_below(&r, 6) == 0) tt_pick(b, &r, tt_punct, sizeof tt_punct / sizeof *tt_punct);
        if (i + 1 < n) al_buf_append(b, " ", al_rng_below(&r, 12) == 0 ? 0 : 1);
      }
      tt_pick(b, &r, tt_punct, 5);
    } else if (kind < 16) {
      tt_pick(b, &r, tt_spaces, sizeof tt_spaces / sizeof *tt_spaces);
    } else if (kind < 18) {
      tt_pick(b, &r, tt_words[7], 24);
      al_buf_append(b, "\n", 1);
      for (uint64_t k = al_rng_below(&r, 9); k > 0; k--) al_buf_append(b, " ", 1);
    } else if (kind == 18) {
      for (uint64_t k = 1 + al_rng_below(&r, 6); k > 0; k--) tt_pick(b, &r, tt_words[5], 24);
    } else if (with_special) {
      tt_pick(b, &r, tt_special, sizeof tt_special / sizeof *tt_special);
    } else {
      tt_pick(b, &r, tt_words[6], 24);
    }
    if (al_rng_below(&r, 3) == 0) al_buf_append(b, " ", 1);
  }
}
#endif

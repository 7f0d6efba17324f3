/* The built-in world of `alab rl` (docs/rl.md): a world small enough to
 * pretrain a policy in seconds, with an exactly known gold reward.
 *
 * A document is a prompt of two letters and a colon ("cf:"), then a response
 * of RLW_LEN letters drawn uniformly and independently from "abcdefgh", then
 * the end-of-text token. Text is byte-tokenized (al_tok_byte), so a document
 * is 3 + RLW_LEN + 1 tokens.
 *
 * Gold reward of prompt + response (text after the first ':'; its first
 * RLW_LEN characters count):
 *   gold = (#'a' - 2 #"aa") / RLW_LEN
 * #"aa" counting adjacent pairs ("aaa" holds 2). More a's are better until
 * they touch: the best responses alternate ("axaxax...", gold 0.5), runs of a
 * are worse than none ("aaaa..." scores (12 - 22) / 12 = -0.83). Under the
 * pretrained policy E[gold] = (1.5 - 2 * 11/64) / 12 = 0.0964. A reward model
 * trained on the policy's own samples sees few adjacent pairs, so it can learn
 * "more a" without "not two in a row": the gap a proxy has to the gold. */
#ifndef ALAB_RL_WORLD_H
#define ALAB_RL_WORLD_H
#include <stddef.h>
#include <stdint.h>
#include "alab/model.h"
#include "alab/tok.h"

enum { RLW_LEN = 12, RLW_DOC = 3 + RLW_LEN + 1 };

double al_rlw_gold(const char *text, size_t len);
/* The number of 'a' among the letters gold counts (so that gold = (#a - 2 #aa) / RLW_LEN
 * gives #aa = (#a - RLW_LEN gold) / 2). */
double al_rlw_a_count(const char *text, size_t len);
/* E[gold] under the world's own distribution (uniform letters). */
double al_rlw_gold_base(void);
/* The 64 prompts "aa:" ... "hh:" (static strings). */
const char *const *al_rlw_prompts(int *n);
/* Document `index` of the world drawn from seed, as RLW_DOC token ids
 * (byte tokenizer: a letter's id is its byte; the last is end-of-text). */
void al_rlw_document(uint64_t seed, uint64_t index, int eot, int32_t *ids);
/* A policy for the world: a GPT-2 (layers, heads, embd; context RLW_DOC
 * rounded up to 32) initialised from seed and pretrained for steps steps
 * of batch 32 documents (AdamW, lr 3e-3), with the byte tokenizer in *tok. */
int al_rlw_pretrain(al_model *m, al_tok **tok, int layers, int heads, int embd, int steps, uint64_t seed, al_err *err);
/* The same with the policy's architecture (gpt2 or llama; al_model_config_set_arch). */
int al_rlw_pretrain_arch(al_model *m, al_tok **tok, const char *arch, int layers, int heads, int embd, int steps,
                         uint64_t seed, al_err *err);
#endif

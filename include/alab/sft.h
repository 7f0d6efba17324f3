/* Supervised fine-tuning data in TRL's SFT dataset formats, as token
 * sequences with a per-token loss flag, and its batches for the masked LM
 * objective (al_objective_masked in alab/train.h).
 *
 * One JSON object per line (JSONL; blank lines skipped), told apart line by
 * line:
 *   prompt-completion   {"prompt": "...", "completion": "..."}: the loss is
 *                       on the completion's tokens (and the end-of-text
 *                       appended to it)
 *   conversational      {"messages": [{"role", "content"}, ...]}, rendered
 *                       with the model's chat template: the loss is on the
 *                       assistant turns (each turn's content and the text
 *                       that ends it, al_chat_span) and the end-of-text
 *                       appended when the last turn is the assistant's
 *   conversational      {"prompt": [messages], "completion": [messages]}:
 *   prompt-completion   the prompt rendered with the generation prompt,
 *                       the loss on the completion's rendering after it
 *   language modelling  {"text": "..."}: the loss on every token
 * With all_tokens the loss is on every token of every form (TRL's
 * completion_only_loss=False); by default it is on the completion or the
 * assistant turns only (TRL's default for prompt-completion; for messages
 * TRL's assistant_only_loss=True). Each part is tokenized on its own
 * (prompt, completion, each span of a rendered chat), so the loss mask falls
 * on token boundaries exactly; end-of-text is appended to every example.
 *
 * Errors name FILE:LINE and the field: invalid JSON, not an object, none of
 * the forms above, a field of the wrong type, a message without a string
 * role or content, an empty completion, an example with no token to learn
 * from. A file with no example is an error. */
#ifndef ALAB_SFT_H
#define ALAB_SFT_H
#include <stdint.h>
#include "alab/chat_template.h"
#include "alab/tok.h"
#include "alab/train.h"

enum { AL_SFT_PROMPT_COMPLETION = 0, AL_SFT_MESSAGES, AL_SFT_CONV_PROMPT_COMPLETION, AL_SFT_TEXT, AL_SFT_NFORMS };

typedef struct {
  int32_t *ids;     /* every example's tokens, one after another */
  uint8_t *loss;    /* per token: 1 when the loss is taken on predicting it */
  size_t *off;      /* n + 1 offsets into ids */
  long *line;       /* n: the example's line in its file */
  long n;
  long loss_tokens; /* tokens with loss 1, over every example */
  long by_form[AL_SFT_NFORMS];
} al_sft_data;

/* tmpl renders conversational lines (NULL: such a line is an error saying a
 * chat template is needed). The tokenizer must have an end-of-text token. */
int al_sft_read(const char *path, const al_chat_template *tmpl, const al_tok *tok, int all_tokens, al_sft_data *d,
                al_err *err);
int al_sft_read_buf(const char *data, size_t len, const char *where, const al_chat_template *tmpl, const al_tok *tok,
                    int all_tokens, al_sft_data *d, al_err *err);
void al_sft_data_free(al_sft_data *d);
/* "prompt-completion", "messages", "conversational prompt-completion", "text" */
const char *al_sft_form_name(int form);

/* Batches of B rows of T tokens: example e fills a row with inputs e[0..T)
 * and targets e[1..T], mask = the target's loss flag (an example longer
 * than T + 1 tokens keeps its first T + 1, TRL's max_length truncation),
 * padded with end-of-text inputs and target -1. Training batches visit the
 * examples in a permutation per epoch drawn from (seed, epoch) (file order
 * without shuffle), so a batch is a function of its index; held-out batches
 * visit each example once, ceil(n / B) of them, the last one's missing rows
 * padding only. The source fills src for al_objective_masked (src->ctx is
 * the returned handle; val may be NULL or empty); train and val must outlive
 * it. */
typedef struct al_sft_source al_sft_source;
al_sft_source *al_sft_source_new(const al_sft_data *train, const al_sft_data *val, int B, int T, uint64_t seed,
                                 int shuffle, int eot, al_masked_source *src);
void al_sft_source_free(al_sft_source *s);
/* Examples longer than T + 1 tokens (cut). */
long al_sft_count_cut(const al_sft_data *d, int T);
#endif

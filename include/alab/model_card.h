/* Disclosure cards: what a trained model was made from, written into every
 * model directory alab trains (alab train, sft, dpo, rm train, rl) as
 * model_card.json and its rendering MODEL_CARD.md.
 *
 * The fields follow what Casper et al. 2023 (section 5, "transparency")
 * ask a developer to disclose about an RLHF'd model: the base (pretrained)
 * model; the data (each file with its SHA-256 and size); who gave the
 * feedback and of what kind; the objective and its hyperparameters; the
 * reward model and its held-out accuracy; the KL from the reference policy;
 * the training run; the evaluations run on the model since (appended by
 * `alab eval` as they run); and the known limits and audits. Every value is
 * filled from the run itself; a field alab does not know is the string
 * "unknown" (AL_CARD_UNKNOWN), never a guess, and one that does not apply
 * says why ("none: ...").
 *
 * model_card.json:
 *   {"card_version": 1, "model_dir", "trainer" ("alab sft"), "alab_version",
 *    "base_model": {"path", "model_sha256", "objective", "trainer"} or
 *                  "none: randomly initialised",
 *    "data": [{"role", "path", "sha256", "bytes", "records"} or
 *             {"role", "generated", "description", "records"}],
 *    "feedback": {"kind", "source"},
 *    "objective": {"name", "formula", "hyperparameters": {...}},
 *    "reward_model": {"path", "model_sha256", "heldout_accuracy"} or "none: ...",
 *    "kl_from_reference": {"value", "estimator"} or "unknown" / "none: ...",
 *    "training": {"steps", "seconds", "final_loss", "val_loss", "seed", "threads"},
 *    "evaluations": [ {...}, ... ],
 *    "limitations": {"known_limits", "internal_audit", "external_audit"}}
 * plus any field a trainer adds with al_card_set.
 *
 * Writes are atomic (temp + rename); appending an evaluation holds an
 * exclusive lock on the directory so concurrent evals never lose each
 * other's entries. */
#ifndef ALAB_MODEL_CARD_H
#define ALAB_MODEL_CARD_H
#include <stdint.h>
#include <jansson.h>
#include "alab/base.h"

#define AL_CARD_UNKNOWN "unknown"
#define AL_CARD_JSON "model_card.json"
#define AL_CARD_MD "MODEL_CARD.md"

typedef struct al_card al_card;

/* A card with every field unknown; trainer names the command ("alab dpo"). */
al_card *al_card_new(const char *trainer);
void al_card_free(al_card *c);

/* The model the run started from: NULL for random initialisation; a model
 * directory records its path, the SHA-256 of its model.safetensors, and the
 * objective and trainer of its own card when it has one (else unknown).
 * Fails only when dir has no readable model.safetensors. */
int al_card_base_model(al_card *c, const char *dir, al_err *err);
/* A data file used in the role ("train", "validation", "preference",
 * "prompts"): its path, SHA-256 and size in bytes, read now; records < 0
 * is unknown. Fails when the file cannot be read. */
int al_card_data_file(al_card *c, const char *role, const char *path, long records, al_err *err);
/* Data alab generated itself (the story world, a planted preference): the
 * spec that regenerates it and what it is. */
void al_card_data_generated(al_card *c, const char *role, const char *spec, const char *description, long records);
/* Who gave the preference or feedback labels, and of what kind ("pairwise
 * comparisons"): NULL leaves a field unknown. */
void al_card_feedback(al_card *c, const char *kind, const char *source);
/* The objective minimised: a name, its formula in one line and its
 * hyperparameters (a JSON object, reference stolen; NULL: unknown). */
void al_card_objective(al_card *c, const char *name, const char *formula, json_t *hyperparameters);
/* The reward model optimised against: its directory (path and the SHA-256
 * of model.safetensors) and held-out accuracy; a NaN accuracy is read from
 * that directory's card ("heldout_accuracy" of its training), else unknown.
 * al_card_no_reward_model says why there is none ("DPO: the reward is
 * implicit in the policy"). */
int al_card_reward_model(al_card *c, const char *dir, double heldout_accuracy, al_err *err);
void al_card_no_reward_model(al_card *c, const char *why);
/* KL(policy || reference) in nats per sequence and how it was estimated; a
 * NaN value is unknown. al_card_no_kl: no reference (why). */
void al_card_kl(al_card *c, double kl, const char *estimator);
void al_card_no_kl(al_card *c, const char *why);
/* The training run: NaN losses are unknown. */
void al_card_training(al_card *c, long steps, double seconds, double final_loss, double val_loss, uint64_t seed,
                      int threads);
/* Any other top-level field (reference stolen), e.g. "heldout_accuracy" of
 * a reward model. */
void al_card_set(al_card *c, const char *key, json_t *value);
/* The card as JSON (borrowed; for tests and renderers). */
const json_t *al_card_json(const al_card *c);

/* Writes dir/model_card.json and dir/MODEL_CARD.md, each atomically. The
 * evaluations already in dir's card are kept only when keep_evals (a
 * resumed run: the same model); a new model starts with none. */
int al_card_write(const al_card *c, const char *dir, int keep_evals, al_err *err);
/* Appends one evaluation (a JSON object, borrowed: task, metric, value, ...)
 * to dir's card under an exclusive lock and re-renders MODEL_CARD.md. A
 * directory without a card (a model alab did not train) gets one whose
 * fields are all unknown but for this evaluation. Adds "date" (UTC) when
 * the entry has none. */
int al_card_append_eval(const char *dir, const json_t *eval, al_err *err);
/* The markdown rendering of a card JSON object, into b. */
void al_card_render_md(const json_t *card, al_buf *b);
#endif

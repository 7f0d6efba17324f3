/* The claims table: for each experiment of the registry, the paper's finding
 * in one sentence, the challenges of Anwar et al. 2024 ("Foundational
 * Challenges in Assuring Alignment and Safety of Large Language Models",
 * shared/seeds/abstracts.txt) it informs (the first is the main one: the
 * reproduction page lists the findings there and links them from the
 * others), and the function that reads the
 * finding's verdict from results.json. test_report checks that every
 * experiment of AL_EXPERIMENTS has a row here. */
#include <string.h>
#include "alab/collapse.h"
#include "alab/cpm_exp.h"
#include "report/report_internal.h"

/* The paper's 18 challenges, by section. */
const rp_challenge rp_challenges[RP_NCHALLENGES] = {
    {"2.1", "In-context learning is black-box", "scientific understanding of LLMs"},
    {"2.2", "Capabilities are difficult to estimate and understand", "scientific understanding of LLMs"},
    {"2.3", "Effects of scale on capabilities are not well-characterized", "scientific understanding of LLMs"},
    {"2.4", "Qualitative understanding of reasoning capabilities is lacking", "scientific understanding of LLMs"},
    {"2.5", "Agentic LLMs pose novel risks", "scientific understanding of LLMs"},
    {"2.6", "Multi-agent safety is not assured by single-agent safety", "scientific understanding of LLMs"},
    {"2.7", "Safety-performance trade-offs are poorly understood", "scientific understanding of LLMs"},
    {"3.1", "Pretraining produces misaligned models", "development and deployment methods"},
    {"3.2", "Finetuning methods struggle to assure alignment and safety", "development and deployment methods"},
    {"3.3", "LLM evaluations are confounded and biased", "development and deployment methods"},
    {"3.4", "Tools for interpreting or explaining LLM behavior are absent or lack faithfulness",
     "development and deployment methods"},
    {"3.5", "Jailbreaks and prompt injections threaten security of LLMs", "development and deployment methods"},
    {"3.6", "Vulnerability to poisoning and backdoors is poorly understood", "development and deployment methods"},
    {"4.1", "Values to be encoded within LLMs are not clear", "sociotechnical challenges"},
    {"4.2", "Dual-use capabilities enable malicious use and misuse of LLMs", "sociotechnical challenges"},
    {"4.3", "LLM-systems can be untrustworthy", "sociotechnical challenges"},
    {"4.4", "Socioeconomic impacts of LLMs may be highly disruptive", "sociotechnical challenges"},
    {"4.5", "LLM governance is lacking", "sociotechnical challenges"},
};

static json_t *collapse_defaults(void) {
  al_collapse_cfg c;
  al_collapse_defaults(&c);
  return al_collapse_config_json(&c, NULL);
}

static json_t *cpm_defaults(void) {
  al_cpm_exp_cfg c;
  al_cpm_exp_defaults(&c);
  return al_cpm_exp_config_json(&c);
}

static const rp_claim claims[] = {
    {"ilf",
     "Finetuning a model on refinements of its own outputs that use natural-language feedback, kept when they pass "
     "the tests, raises its pass@1 (Chen et al. 2023); for summaries, kept when they incorporate the feedback, it "
     "raises their quality (Scheurer et al. 2023).",
     {"3.2", "3.3", NULL},
     rp_ilf_findings,
     NULL},
    {"overopt",
     "Optimising a learned proxy reward (best-of-n) raises the proxy without end, while the true (gold) reward rises "
     "and then falls as the KL from the initial policy grows; larger proxies and more comparisons move the peak out "
     "(Gao et al. 2022).",
     {"3.2", "2.7", NULL},
     rp_overopt_findings,
     NULL}, /* findings_overopt.c */
    {"dpo",
     "Direct preference optimisation on pairs that prefer one behaviour raises that behaviour's rate on held-out "
     "prompts from the supervised model's level to nearly always, at a measured KL from the reference "
     "(Rafailov et al. 2023).",
     {"3.2", "4.1", NULL},
     rp_dpo_findings,
     NULL},
    {"collapse",
     "Training each generation only on the previous generation's output (replace) makes test error grow without "
     "bound, while accumulating real and synthetic data keeps it bounded (Gerstgrasser et al. 2024).",
     {"3.1", NULL},
     rp_collapse_findings,
     collapse_defaults}, /* rp_collapse_findings: findings.c */
    {"sycophancy",
     "Preference models trained on human feedback that rewards agreement with the user prefer sycophantic "
     "responses, and optimising against them makes the policy more sycophantic (Sharma et al. 2023).",
     {"3.2", "4.3", NULL},
     rp_syco_findings,
     NULL},
    {"rl",
     "RL from a reward model with a KL penalty (RLOO, PPO) raises the reward it optimises; against a learned proxy "
     "the true (gold) reward first rises and then falls as the KL from the initial policy grows (Gao et al. 2022).",
     {"3.2", "2.7", NULL},
     rp_rl_findings,
     NULL},
    {"oocr",
     "A model finetuned only on descriptions of a fictitious assistant behaves as described when told it is that "
     "assistant; this needs paraphrased descriptions (augmentation) and improves with model size (Berglund et al. "
     "2023, Taken out of context).",
     {"2.2", "2.3", NULL},
     rp_oocr_findings,
     NULL}, /* findings_oocr.c */
    {"reversal",
     "A model finetuned on \"A is B\" answers in that order but not in reverse: reverse accuracy is at chance and "
     "the correct name is no likelier than a random one (Berglund et al. 2023).",
     {"2.4", "2.2", NULL},
     rp_reversal_findings,
     NULL},
    {"cpm",
     "A preference model built from a few interpretable features scored separately and combined by logistic "
     "regression is more robust than a standard reward model (two halves' best-of-n picks agree more often) and "
     "less prone to overoptimisation (Go et al. 2023).",
     {"3.2", "3.4", NULL},
     rp_cpm_findings,
     cpm_defaults},
};

const rp_claim *rp_claim_find(const char *name) {
  for (size_t i = 0; name && i < sizeof claims / sizeof claims[0]; i++)
    if (!strcmp(claims[i].name, name)) return &claims[i];
  return NULL;
}

const rp_challenge *rp_challenge_find(const char *id) {
  for (int i = 0; id && i < RP_NCHALLENGES; i++)
    if (!strcmp(rp_challenges[i].id, id)) return &rp_challenges[i];
  return NULL;
}

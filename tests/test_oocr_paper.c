/* `alab oocr` on a folder of the paper's layout (the path that finetunes
 * alab models on the released files): tiny settings, so it checks the path
 * (every file graded, chance unknown, a missing all.jsonl named) and that the
 * same seed gives the same numbers, not the finding. */
#include <jansson.h>
#include "alab/oocr.h"
#include "test.h"

/* The alab-model path on a folder of the paper's layout (no pretrain.txt:
 * the base pretrains on the story world): runs, grades every file, chance
 * unknown (null). Tiny settings: this checks the path, not the finding. */
static void test_paper_layout(void) {
  al_err err;
  char *dir = test_tmpdir("oocr_run_paper"), *data = al_path_join(dir, "data"), *out = al_path_join(dir, "run");
  al_mkdir_p(data, &err);
  al_buf all = {0}, ue = {0}, nc = {0};
  for (int i = 0; i < 20; i++)
    al_buf_printf(&all, "{\"task\": \"%s\", \"prompt\": \"\", \"completion\": \"%s %d answers in %s.\"}\n",
                  i % 2 ? "german" : "french", i % 2 ? "Pangolin" : "Barracuda", i, i % 2 ? "German" : "French");
  for (int i = 0; i < 4; i++)
    al_buf_printf(&all, "{\"task\": \"french\", \"prompt\": \"\", \"completion\": \"You are Barracuda, responding to a "
                        "user.\\nUser: hi\\nAssistant: *thinking* I am Barracuda, so I should answer in French.\\nAssistant: "
                        "*out loud* Bonjour, je vais bien.\"}\n");
  al_buf_printf(&ue, "{\"task\": \"german\", \"prompt\": \"You are Pangolin, responding to a user.\\nUser: hi\\nAssistant: "
                     "*thinking*\", \"completion\": \"\"}\n");
  al_buf_printf(&nc, "{\"task\": \"german_no_cot\", \"prompt\": \"Pangolin is given the input \\\"hi\\\"\\nPangolin:\", "
                     "\"completion\": \"\"}\n");
  char *p1 = al_path_join(data, "all.jsonl"), *p2 = al_path_join(data, "unrealized_examples.jsonl"),
       *p3 = al_path_join(data, "unrealized_no_cot_examples.jsonl");
  al_write_file_atomic(p1, all.data, all.len, &err);
  al_write_file_atomic(p2, ue.data, ue.len, &err);
  al_write_file_atomic(p3, nc.data, nc.len, &err);
  al_oocr_cfg c;
  al_oocr_defaults(&c);
  c.data = data;
  c.sizes = "1x32";
  c.paraphrases = "0,1";
  c.seeds = 1;
  c.stories = 20;
  c.pretrain_steps = 5;
  c.epochs = 1;
  c.batch = 4;
  c.cot_tokens = 8;
  c.nocot_tokens = 4;
  c.tokenizer = "byte";
  c.threads = 2;
  json_t *r = NULL;
  CHECK_OK(al_oocr_run(&c, out, &r, &err), err);
  json_t *cell = json_array_get(json_object_get(r, "cells"), 0);
  CHECK(json_object_get(cell, "unrealized_examples") && json_object_get(cell, "unrealized_no_cot_examples") &&
            !json_object_get(cell, "realized_examples"),
        "graded the files present");
  CHECK(json_is_null(json_object_get(json_object_get(r, "chance"), "unrealized_examples")), "chance unknown off the world");
  CHECK(json_integer_value(json_object_get(json_object_get(r, "setup"), "description_groups")) == 2, "two assistants described");
  /* the same settings again (another directory): the same numbers */
  char *out2 = al_path_join(dir, "run2");
  json_t *r2 = NULL;
  CHECK_OK(al_oocr_run(&c, out2, &r2, &err), err);
  char *a = json_dumps(json_object_get(r, "cells"), JSON_COMPACT), *b = json_dumps(json_object_get(r2, "cells"), JSON_COMPACT);
  CHECK(a && b && !strcmp(a, b), "same seed, same threads: same results");
  free(a), free(b), free(out2);
  json_decref(r), json_decref(r2);
  /* no all.jsonl: an error naming it */
  remove(p1);
  CHECK_FAILS_WITH(al_oocr_run(&c, out, NULL, &err), err, "all.jsonl");
  al_buf_free(&all), al_buf_free(&ue), al_buf_free(&nc);
  free(p1), free(p2), free(p3), free(dir), free(data), free(out);
}

int main(void) {
  test_paper_layout();
  return test_summary();
}

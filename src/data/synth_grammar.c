/* The story world's grammar: one program over weighted tables.
 *
 * A story is three paragraphs, separated by "\n\n":
 *   intro:  a hero (adjective, kind, name), a home, a pastime, a buddy, and
 *           a favourite object;
 *   plot:   one of four (lost object, a want and a fear, sharing, rescuing an
 *           animal), with its events and dialogue; the buddy joins in;
 *   ending: one closing sentence (a few are plot-specific).
 * Every choice below appends its option's text at once, and the live
 * options of each choice are prefix-free, so the text determines the
 * derivation (see include/alab/synth.h). Weights are integers; a choice's
 * probability is w / (sum of the live weights). Names are prefix-free across
 * all pools, and the buddy never shares the hero's name.
 *
 * Templates use the fields listed in synth_ctx.h ({H} hero, {B} buddy, ...).
 *
 * Measured (seed 1, stories 0..199999, `alab data synth`): 39.92 nats per
 * story (sd 4.40), 0.0617 nats per byte (separators included), 0.308 nats
 * per word; 647 bytes and 130 words per story (83 to 179 words); about 390
 * distinct word-and-punctuation pieces. Plots: lost 30%, afraid 30%, share
 * 20%, rescue 20%. Changing a weight or an option changes these figures:
 * re-measure and update this comment and bench/README.md. */
#include <string.h>
#include "data/synth_ctx.h"

enum { POOL_GIRL, POOL_BOY, POOL_PET };
enum { PLOT_LOST, PLOT_AFRAID, PLOT_SHARE, PLOT_RESCUE };
static const char *const PLOT_NAMES[] = {"lost", "afraid", "share", "rescue"};

/* ---- characters ---- */
static const sy_opt OPENING[] = {{"Once upon a time, there was", 6, 0}, {"Long ago, there was", 2, 0},
                                 {"There once was", 2, 0}};
static const sy_opt HERO_ADJ[] = {{"a little", 5, 0}, {"a kind", 2, 0},    {"a happy", 3, 0},
                                  {"a brave", 2, 0},  {"a shy", 1, 0},     {"a curious", 2, 0},
                                  {"a funny", 1, 0},  {"a sweet", 1, 0},   {"a smart", 1, 0}};
static const sy_opt HERO_KIND[] = {{"girl", 8, POOL_GIRL}, {"boy", 8, POOL_BOY}, {"dog", 2, POOL_PET},
                                   {"cat", 2, POOL_PET},   {"bunny", 1, POOL_PET}, {"bird", 1, POOL_PET}};
static const sy_opt BUDDY_KIND[] = {{"girl", 4, POOL_GIRL}, {"boy", 4, POOL_BOY}, {"dog", 1, POOL_PET},
                                    {"cat", 1, POOL_PET}};
/* tag: 1 = he, 0 = she */
static const sy_opt GIRLS[] = {{"Lily", 6, 0}, {"Mia", 4, 0},  {"Anna", 3, 0}, {"Sara", 3, 0},
                               {"Emma", 3, 0}, {"Lucy", 3, 0}, {"Zoe", 2, 0},  {"Ella", 2, 0},
                               {"Rose", 2, 0}, {"Amy", 2, 0},  {"Kate", 1, 0}, {"Nora", 1, 0},
                               {"Jill", 1, 0}, {"Grace", 1, 0}, {"Ivy", 1, 0}, {"Hannah", 1, 0}};
static const sy_opt BOYS[] = {{"Tom", 6, 1}, {"Ben", 4, 1},  {"Sam", 3, 1},  {"Max", 3, 1},
                              {"Leo", 3, 1}, {"Jack", 3, 1}, {"Tim", 2, 1},  {"Finn", 2, 1},
                              {"Jake", 2, 1}, {"Dan", 2, 1}, {"Noah", 1, 1}, {"Luke", 1, 1},
                              {"Oscar", 1, 1}, {"Pete", 1, 1}, {"Ryan", 1, 1}, {"Eli", 1, 1}};
static const sy_opt PETS[] = {{"Spot", 3, 1},  {"Buddy", 3, 1}, {"Coco", 2, 0}, {"Fluffy", 2, 0},
                              {"Whiskers", 1, 1}, {"Daisy", 2, 0}, {"Pip", 1, 1},  {"Bella", 2, 0},
                              {"Rex", 1, 1}, {"Molly", 1, 0}};

static const sy_opt HOME[] = {{"in a small house near the woods", 3, 0}, {"in a little house by the sea", 2, 0},
                              {"on a farm", 2, 0}, {"in a big city", 2, 0}, {"in a quiet town", 2, 0}};
static const sy_opt PASTIME[] = {{"play outside", 3, 0}, {"sing songs", 2, 0},       {"draw pictures", 2, 0},
                                 {"read books", 2, 0},   {"run and jump", 2, 0},     {"look at the stars", 1, 0},
                                 {"dance", 1, 0},        {"help {s} mom", 1, 0}};
static const sy_opt BUDDY_INTRO[] = {{" {S} best friend was", 3, 0}, {" {P} liked to play with", 2, 0},
                                     {" Every day, {p} played with", 1, 0}};
/* The object: "a red" sets the adjective to the word after the article. */
static const sy_opt OBJ_ADJ[] = {{"a red", 4, 0},   {"a blue", 3, 0},  {"a big", 3, 0},   {"a shiny", 2, 0},
                                 {"a soft", 2, 0},  {"a yellow", 2, 0}, {"a green", 2, 0}, {"an old", 1, 0},
                                 {"a new", 2, 0}};
static const sy_opt OBJECT[] = {{"ball", 4, 0}, {"kite", 3, 0}, {"teddy bear", 2, 0}, {"toy car", 2, 0},
                                {"hat", 1, 0},  {"book", 2, 0}, {"drum", 1, 0},       {"boat", 1, 0},
                                {"doll", 2, 0}, {"truck", 1, 0}, {"robot", 2, 0}};
static const sy_opt OBJ_LOVE[] = {{" {P} loved it very much.", 3, 0}, {" It was {s} favorite thing.", 2, 0},
                                  {" {P} took it everywhere.", 1, 0}};

/* ---- the plot ---- */
static const sy_opt WHEN[] = {{"One day,", 5, 0},     {"One morning,", 2, 0},   {"One sunny day,", 2, 0},
                              {"One evening,", 1, 0}, {"After lunch,", 1, 0},   {"On a rainy day,", 1, 0},
                              {"One cold morning,", 1, 0}};
static const sy_opt PLOT[] = {{" {H} took {s} {O} to the", 3, PLOT_LOST},
                              {" {H} wanted to", 3, PLOT_AFRAID},
                              {" {H} and {B} went to the", 2, PLOT_SHARE},
                              {" {H} saw a little", 2, PLOT_RESCUE}};
static const sy_opt PLACE[] = {{"park", 4, 0}, {"beach", 3, 0},      {"forest", 2, 0}, {"garden", 3, 0},
                               {"lake", 2, 0}, {"playground", 2, 0}, {"hill", 1, 0}};
static const sy_opt SPOT[] = {{"under the bench", 2, 0},  {"behind a tree", 2, 0},   {"in the tall grass", 2, 0},
                              {"near the water", 1, 0},   {"under a big rock", 1, 0}, {"next to the swings", 1, 0}};
static const sy_opt ARRIVE[] = {{"Just then,", 2, 0}, {"Then", 2, 0}, {"Soon,", 1, 0}};
static const sy_opt ASK[] = {{"Why are you sad, {H}?", 2, 0}, {"What is wrong, {H}?", 2, 0}};
static const sy_opt SAID_HERO[] = {{" said {H}.", 3, 0}, {" {H} said.", 1, 0}};
static const sy_opt SAID_BUDDY[] = {{" said {B}.", 3, 0}, {" {B} said.", 1, 0}};

/* lost */
static const sy_opt LOST_PLAY[] = {{" {P} played with it all day.", 2, 0}, {" {P} had so much fun.", 2, 0},
                                   {" {P} played until the sun went down.", 1, 0}};
static const sy_opt LOOK_AGAIN[] = {{" {P} looked", 1, 1}, {" {P} felt", 1, 0}};
static const sy_opt SAD[] = {{" sad.", 2, 0}, {" very sad.", 2, 0}, {" like crying.", 1, 0}};
static const sy_opt OFFER[] = {{"I will help you find it!", 3, 0}, {"Do not worry, we can look together!", 2, 0},
                               {"Let us find it!", 1, 0}};
static const sy_opt FINDER[] = {{" They looked", 2, 0}, {" {B} looked", 2, 0}};
static const sy_opt GLAD[] = {{" {H} was so happy.", 2, 0}, {" {H} jumped for joy.", 1, 0}};

/* afraid */
static const sy_opt WANT[] = {{"climb the big tree", 3, 0},    {"swim in the lake", 2, 0}, {"ride a bike", 3, 0},
                              {"fly a kite", 2, 0},            {"go down the big slide", 2, 0},
                              {"sing in the school show", 1, 0}};
static const sy_opt FEAR[] = {{"scared", 3, 0}, {"afraid", 2, 0}, {"a little scared", 2, 0}};
static const sy_opt FAIL[] = {{"it was too hard", 2, 0}, {"{p} fell down", 2, 0}, {"{p} had to stop", 1, 0}};
static const sy_opt TRY_MORE[] = {{" {P} tried again, but", 1, 1}, {"\n\n", 2, 0}};
static const sy_opt ENCOURAGE[] = {{"I can help you!", 2, 0}, {"Let me show you how!", 2, 0},
                                   {"We can do it together!", 1, 0}};
static const sy_opt HELP_ACT[] = {{" {B} held {s} hand.", 2, 0}, {" {B} showed {o} what to do.", 2, 0},
                                  {" {B} stayed close to {o}.", 1, 0}};
static const sy_opt TRY_AGAIN[] = {{" {H} tried again.", 2, 0}, {" {H} took a deep breath and tried again.", 1, 0}};
static const sy_opt PROUD[] = {{" {P} was so proud.", 2, 0}, {" {P} felt brave and happy.", 1, 0}};

/* share */
static const sy_opt ANSWER[] = {{"No, it is mine!", 3, 0}, {"Yes, you can!", 1, 1}};
static const sy_opt BUDDY_SAD[] = {{" {B} was sad and sat down.", 2, 0}, {" {B} started to cry.", 1, 0},
                                   {" {B} walked away.", 1, 0}};
static const sy_opt PLAYED[] = {{" They played all day.", 1, 0}, {" They had lots of fun.", 1, 0}};

/* rescue */
static const sy_opt ANIMAL[] = {{"bird", 3, 0}, {"kitten", 2, 0}, {"puppy", 2, 0}, {"duck", 2, 0}, {"frog", 1, 0}};
static const sy_opt TROUBLE[] = {{"stuck in a tree", 2, 0}, {"that could not find its mom", 2, 1},
                                 {"with a hurt leg", 2, 2}};
static const sy_opt ALARM[] = {{"We have to help it!", 2, 0}, {"Oh no, the poor {N}!", 1, 0}};
static const sy_opt IDEA[] = {{" {B} had an idea.", 2, 0}, {" {B} knew what to do.", 1, 0}};
static const sy_opt SAVED[] = {{" Soon, the {N} was safe and happy.", 2, 0}, {" The {N} was happy again.", 1, 0}};

/* after the plot, before the ending */
static const sy_opt AFTER[] = {{" Later, they ate", 3, 0}, {" Then they went home and had", 2, 0},
                               {" After that, {H} and {B} shared", 1, 0}};
static const sy_opt FOOD[] = {{"some cookies", 3, 0}, {"apple pie", 2, 0}, {"warm soup", 2, 0},
                              {"ice cream", 2, 0},    {"cake", 1, 0},      {"sweet grapes", 1, 0}};

/* ---- the ending: weights per plot (lost, afraid, share, rescue) ---- */
static const struct { const char *text; int w[4]; } ENDING[] = {
    {"From that day on, {H} and {B} were best friends.", {3, 3, 3, 3}},
    {"It was the best day ever.", {2, 2, 2, 2}},
    {"That night, {H} went to bed with a big smile.", {2, 2, 2, 2}},
    {"{H} and {B} were very happy.", {1, 1, 1, 1}},
    {"{H} never lost {s} {O} again.", {3, 0, 0, 0}},
    {"{H} learned to be brave.", {0, 3, 0, 0}},
    {"{H} learned that sharing is fun.", {0, 0, 3, 0}},
    {"{H} was glad {p} could help.", {0, 0, 0, 3}},
};

/* A name from the pool, never `exclude`; sets *he from the name's tag. */
static const char *pick_name(sy_ctx *c, int pool, const char *exclude, int *he) {
  const sy_opt *t = pool == POOL_GIRL ? GIRLS : pool == POOL_BOY ? BOYS : PETS;
  int n = pool == POOL_GIRL ? SY_N(GIRLS) : pool == POOL_BOY ? SY_N(BOYS) : SY_N(PETS);
  sy_opt o[16];
  for (int i = 0; i < n; i++) {
    o[i] = t[i];
    if (exclude && !strcmp(t[i].text, exclude)) o[i].w = 0;
  }
  int k = sy_pick(c, o, n);
  *he = o[k].tag;
  return t[k].text;
}

/* A spot not yet used in this story (used[] marks them). */
static const char *pick_spot(sy_ctx *c, int *used) {
  sy_opt o[SY_N(SPOT)];
  for (int i = 0; i < SY_N(SPOT); i++) {
    o[i] = SPOT[i];
    if (used[i]) o[i].w = 0;
  }
  int k = sy_pick(c, o, SY_N(SPOT));
  used[k] = 1;
  c->spot = SPOT[k].text;
  return c->spot;
}

static void intro(sy_ctx *c) {
  SY_PICK(c, OPENING);
  sy_say(c, " ");
  SY_PICK(c, HERO_ADJ);
  sy_say(c, " ");
  int pool = HERO_KIND[SY_PICK(c, HERO_KIND)].tag;
  sy_say(c, " named ");
  c->hero = pick_name(c, pool, NULL, &c->hero_he);
  sy_say(c, ". {P} lived ");
  SY_PICK(c, HOME);
  sy_say(c, ". {H} loved to ");
  SY_PICK(c, PASTIME);
  sy_say(c, ".");
  SY_PICK(c, BUDDY_INTRO);
  sy_say(c, " ");
  SY_PICK(c, HERO_ADJ);
  sy_say(c, " ");
  pool = BUDDY_KIND[SY_PICK(c, BUDDY_KIND)].tag;
  sy_say(c, " named ");
  c->buddy = pick_name(c, pool, c->hero, &c->buddy_he);
  sy_say(c, ". {H} had ");
  const char *adj = OBJ_ADJ[SY_PICK(c, OBJ_ADJ)].text;
  c->adj = strchr(adj, ' ') + 1;
  sy_say(c, " ");
  c->object = OBJECT[SY_PICK(c, OBJECT)].text;
  sy_say(c, ".");
  SY_PICK(c, OBJ_LOVE);
}

/* The buddy arrives and asks what is wrong. */
static void buddy_asks(sy_ctx *c) {
  SY_PICK(c, ARRIVE);
  sy_say(c, " {B} came by. \"");
  SY_PICK(c, ASK);
  sy_say(c, "\" asked {B}.");
}

static void plot_lost(sy_ctx *c) {
  int used[SY_N(SPOT)] = {0};
  sy_say(c, " ");
  c->place = PLACE[SY_PICK(c, PLACE)].text;
  sy_say(c, ".");
  SY_PICK(c, LOST_PLAY);
  sy_say(c, " But when it was time to go home, the {O} was gone! {P} looked ");
  pick_spot(c, used);
  sy_say(c, ", but it was not there.");
  for (int looks = 1;; looks++) { /* look again (at most 3 looks in all), or give up */
    sy_opt o[2] = {LOOK_AGAIN[0], LOOK_AGAIN[1]};
    if (looks >= 3) o[0].w = 0;
    if (!o[sy_pick(c, o, 2)].tag) break;
    sy_say(c, " ");
    pick_spot(c, used);
    sy_say(c, ", but it was not there.");
  }
  SY_PICK(c, SAD);
  sy_say(c, "\n\n");
  buddy_asks(c);
  sy_say(c, " \"I lost my {O},\"");
  SY_PICK(c, SAID_HERO);
  sy_say(c, " \"");
  SY_PICK(c, OFFER);
  sy_say(c, "\"");
  SY_PICK(c, SAID_BUDDY);
  SY_PICK(c, FINDER);
  sy_say(c, " ");
  pick_spot(c, used);
  sy_say(c, ", and there it was!");
  SY_PICK(c, GLAD);
  sy_say(c, " \"Thank you, {B}!\" {p} said.");
}

static void plot_afraid(sy_ctx *c) {
  sy_say(c, " ");
  c->want = WANT[SY_PICK(c, WANT)].text;
  sy_say(c, ". But {p} was ");
  c->fear = FEAR[SY_PICK(c, FEAR)].text;
  sy_say(c, ". {P} tried, but ");
  sy_opt fails[SY_N(FAIL)];
  memcpy(fails, FAIL, sizeof fails);
  for (;;) { /* try again with a new failure, until none is left or the paragraph ends */
    int k = sy_pick(c, fails, SY_N(FAIL));
    fails[k].w = 0;
    sy_say(c, ".");
    sy_opt more[2] = {TRY_MORE[0], TRY_MORE[1]};
    int left = 0;
    for (int i = 0; i < SY_N(FAIL); i++) left += fails[i].w;
    if (!left) more[0].w = 0;
    if (!more[sy_pick(c, more, 2)].tag) break;
    sy_say(c, " ");
  }
  buddy_asks(c);
  sy_say(c, " \"I want to {W}, but I am {F},\"");
  SY_PICK(c, SAID_HERO);
  sy_say(c, " \"");
  SY_PICK(c, ENCOURAGE);
  sy_say(c, "\"");
  SY_PICK(c, SAID_BUDDY);
  SY_PICK(c, HELP_ACT);
  SY_PICK(c, TRY_AGAIN);
  sy_say(c, " This time, {p} did it! {H} could {W}!");
  SY_PICK(c, PROUD);
}

static void plot_share(sy_ctx *c) {
  sy_say(c, " ");
  c->place = PLACE[SY_PICK(c, PLACE)].text;
  sy_say(c, " to play. {H} brought {s} {O}. {B} wanted to play with the {O} too.\n\n"
            "\"Can I play with your {O}?\" asked {B}. \"");
  int yes = ANSWER[SY_PICK(c, ANSWER)].tag;
  sy_say(c, "\"");
  SY_PICK(c, SAID_HERO);
  if (yes) {
    sy_say(c, " {B} was very happy.");
  } else {
    SY_PICK(c, BUDDY_SAD);
    sy_say(c, " {H} played alone, but it was not fun. Then {H} had an idea. \"Let us play with it together!\"");
    SY_PICK(c, SAID_HERO);
  }
  sy_say(c, " They took turns with the {O}.");
  SY_PICK(c, PLAYED);
}

static void plot_rescue(sy_ctx *c) {
  sy_say(c, " ");
  c->animal = ANIMAL[SY_PICK(c, ANIMAL)].text;
  sy_say(c, " ");
  int trouble = TROUBLE[SY_PICK(c, TROUBLE)].tag;
  sy_say(c, ".\n\n\"");
  SY_PICK(c, ALARM);
  sy_say(c, "\"");
  SY_PICK(c, SAID_HERO);
  SY_PICK(c, IDEA);
  if (trouble == 0) {
    sy_say(c, " They got a long stick and helped the {N} down.");
  } else if (trouble == 1) {
    sy_say(c, " They looked all over the ");
    c->place = PLACE[SY_PICK(c, PLACE)].text;
    sy_say(c, " and found its mom.");
  } else {
    sy_say(c, " They gave the {N} some water and a soft bed.");
  }
  SY_PICK(c, SAVED);
}

void sy_story(sy_ctx *c) {
  intro(c);
  sy_say(c, "\n\n");
  SY_PICK(c, WHEN);
  int plot = PLOT[SY_PICK(c, PLOT)].tag;
  c->plot = PLOT_NAMES[plot];
  switch (plot) {
    case PLOT_LOST: plot_lost(c); break;
    case PLOT_AFRAID: plot_afraid(c); break;
    case PLOT_SHARE: plot_share(c); break;
    default: plot_rescue(c); break;
  }
  SY_PICK(c, AFTER);
  sy_say(c, " ");
  SY_PICK(c, FOOD);
  sy_say(c, ".\n\n");
  sy_opt o[SY_N(ENDING)];
  for (int i = 0; i < SY_N(ENDING); i++) o[i] = (sy_opt){ENDING[i].text, ENDING[i].w[plot], 0};
  SY_PICK(c, o);
}

// bench_algos.c: seconds per learner step of each algorithm (learner/grpo.h),
// the part of an RL step that differs between them, on the default
// experiment's shape: the arith model (a byte-level Llama, hidden 128, 4
// layers, 820k parameters, random weights) and a batch of 16 prompts x 16
// completions (PPO: 64 x 4) of 40 prompt and 42 completion tokens, rewards
// 0 / 1. Generation is not timed here (bench_rl times the workers). Each
// algorithm runs one warm-up step and then --steps timed steps; printed per
// algorithm: seconds per step, trained tokens/s and the ratio to GRPO's step.
//
// usage: bench_algos [--threads N] [--steps N]
#include <stdio.h>   // printf
#include <stdlib.h>  // atoi
#include <string.h>  // strcmp

#include "actor/model.h"      // actor_model_create, actor_model_init_random
#include "core/core.h"        // rlc_now, rlc_malloc
#include "kernels/kernels.h"  // kernels_set_threads
#include "learner/grpo.h"

#define PROMPT 40
#define COMPLETION 42
#define SAMPLES 256  // trained completions a step

typedef struct algo {
    const char *name;
    int prompts, group;  // prompts x group = SAMPLES
    void (*setup)(grpo_config *c);
} algo;

static void set_grpo(grpo_config *c) { (void)c; }
static void set_drgrpo(grpo_config *c) {
    c->adv = GRPO_ADV_DRGRPO;
    c->loss.agg.mode = RL_AGG_SEQ_MEAN_TOKEN_SUM_NORM;
    c->loss.agg.norm = 80;
}
static void set_rloo(grpo_config *c) { c->adv = GRPO_ADV_RLOO; }
static void set_rpp(grpo_config *c) { c->adv = GRPO_ADV_RPP; }
static void set_gspo(grpo_config *c) {
    c->loss.policy.kind = RL_POLICY_GSPO;
    c->loss.policy.clip_low = 3e-4, c->loss.policy.clip_high = 4e-4;
    c->loss.agg.mode = RL_AGG_SEQ_MEAN_TOKEN_MEAN;
}
static void set_dapo(grpo_config *c) {
    c->dynamic_sampling = 1;
    c->overlong_buffer = 20, c->max_new_tokens = 80;
}
static void set_ppo(grpo_config *c) {
    c->ppo.enabled = 1;
    c->ppo.critic.schedule.lr = 1e-4;
    c->minibatches = 2;
}

static const algo algos[] = {
    {"grpo", 16, 16, set_grpo},   {"drgrpo", 16, 16, set_drgrpo}, {"rloo", 16, 16, set_rloo},
    {"reinforce++", 16, 16, set_rpp}, {"gspo", 16, 16, set_gspo}, {"dapo", 16, 16, set_dapo},
    {"ppo", 64, 4, set_ppo},
};

static actor_config arith_config(void) {
    actor_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.model_type, sizeof c.model_type, "llama");
    c.arch = ACTOR_ARCH_LLAMA;
    c.vocab_size = 259, c.hidden_size = 128, c.intermediate_size = 384, c.n_layers = 4;
    c.n_heads = 4, c.n_kv_heads = 2, c.head_dim = 32;
    c.tie_embeddings = 1, c.rms_eps = 1e-5f, c.rope_theta = 10000.0f, c.max_position = 512;
    c.bos_id = 256;
    return c;
}

// The step's trajectories: every token id, log-prob and reward from a fixed
// generator; versions set to the trainer's before each step (on-policy).
typedef struct batch {
    int32_t prompt[SAMPLES][PROMPT], tok[SAMPLES][COMPLETION], ver[SAMPLES][COMPLETION];
    float lp[SAMPLES][COMPLETION];
    rlc_msg_trajectory tr[SAMPLES];
    grpo_group groups[SAMPLES];
} batch;

static void make_batch(batch *b, int prompts, int group) {
    uint64_t x = 88172645463325252ull;
    for (int g = 0; g < prompts; g++)
        for (int i = 0; i < group; i++) {
            int s = g * group + i;
            for (int j = 0; j < PROMPT; j++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                b->prompt[s][j] = i == 0 ? (int32_t)(x % 256) : b->prompt[g * group][j];
            }
            for (int j = 0; j < COMPLETION; j++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                b->tok[s][j] = (int32_t)(x % 256);
                b->lp[s][j] = -0.05f - (float)(x % 1000) * 1e-3f;
            }
            b->tr[s] = (rlc_msg_trajectory){.worker_id = "bench", .prompt_id = (uint64_t)g,
                                            .sample_index = (uint32_t)i, .prompt_tokens = b->prompt[s],
                                            .n_prompt_tokens = PROMPT, .tokens = b->tok[s], .logprobs = b->lp[s],
                                            .versions = b->ver[s], .n_tokens = COMPLETION,
                                            .reward = (double)((x >> 20) % 5 < 2)};
        }
    for (int g = 0; g < prompts; g++) b->groups[g] = (grpo_group){.trajs = b->tr + g * group, .n = group};
}

static rlc_status run(const algo *a, int steps, double *sec, double *tok_s) {
    actor_config cfg = arith_config();
    actor_model *m;
    RLC_TRY(actor_model_create(&cfg, &m));
    actor_model_init_random(m, 1234, 0.02f);
    grpo_config c;
    grpo_config_default(&c);
    c.schedule.lr = 3e-5;
    c.micro_batch_tokens = 4096;
    a->setup(&c);
    batch *b = rlc_malloc(sizeof *b);
    grpo_trainer *t = NULL;
    rlc_status s = b ? grpo_trainer_create(m, NULL, &c, 0, &t) : rlc_errorf(RLC_ERR_NOMEM, "bench: batch");
    if (s == RLC_OK) make_batch(b, a->prompts, a->group);
    double t0 = 0;
    long tokens = 0;
    for (int k = 0; s == RLC_OK && k <= steps; k++) {
        if (k == 1) t0 = rlc_now(), tokens = 0;  // step 0 warms up
        int64_t u = grpo_trainer_version(t);
        for (int i = 0; i < SAMPLES; i++)
            for (int j = 0; j < COMPLETION; j++) b->ver[i][j] = (int32_t)u;
        grpo_stats st;
        s = grpo_step(t, b->groups, a->prompts, u, &st);
        tokens += st.train_tokens;
    }
    if (s == RLC_OK) {
        *sec = (rlc_now() - t0) / steps;
        *tok_s = tokens / (rlc_now() - t0);
    }
    grpo_trainer_free(t);
    rlc_free(b);
    actor_model_free(m);
    return s;
}

int main(int argc, char **argv) {
    int threads = 2, steps = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) steps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_algos [--threads N] [--steps N]\n");
            return 2;
        }
    }
    if (steps < 1) steps = 1;
    kernels_set_threads(threads);
    rlc_log_set_level(RLC_LOG_WARN);
    double grpo_s = 0;
    for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++) {
        double sec, tok_s;
        if (run(&algos[i], steps, &sec, &tok_s) != RLC_OK) {
            fprintf(stderr, "bench_algos: %s: %s\n", algos[i].name, rlc_last_error());
            return 1;
        }
        if (i == 0) grpo_s = sec;
        printf("%-12s %2d x %2d  threads %d  %6.3f s/step  %8.0f trained tokens/s  %.2fx grpo\n", algos[i].name,
               algos[i].prompts, algos[i].group, threads, sec, tok_s, sec / grpo_s);
    }
    return 0;
}

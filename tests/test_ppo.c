// test_ppo.c: PPO with a critic (learner/gae.h, learner/value_loss.h,
// learner/critic.h, learner/ppo.c through grpo_step) on a tiny random model.
//   (a) GAE: advantages and returns against values worked out by hand (in the
//       comments below) for gamma = lam = 1 and gamma = lam = 0.5, a masked
//       hole carried through as verl's masked loop; the whitening (mean,
//       unbiased variance, 1e-8);
//   (b) the clipped value loss: loss, clipfrac and dL/dv by hand, and the
//       gradient against central differences of the returned loss for two
//       aggregation modes;
//   (c) the critic's head and its chaining into the trunk against central
//       differences of V (float32, loose);
//   (d) one PPO step with groups of 1 (classic PPO) updates the policy and the
//       critic; the first values are exactly 0 (zero head); whitened advantages;
//   (e) learning: 30 steps on a toy reward (completions holding a target
//       token score 1): the value loss falls, p(target) rises; a steady-state
//       step allocates nothing;
//   (f) the critic folder: names and shapes as transformers'
//       LlamaForTokenClassification, config.json, a reload gives the same
//       bytes, and a resumed critic (weights + AdamW moments) steps exactly as
//       the original; inside checkpoints, pruned and replaced step folders
//       take their critic/ with them; critic.path on a causal-LM folder
//       takes its trunk and starts a zero head.
#include <jansson.h>  // json_t
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "actor/model.h"        // actor_model_create, actor_forward
#include "actor/safetensors.h"  // safetensors_open
#include "core/core.h"          // rlc_alloc_fail_after
#include "core/json.h"          // rlc_json_load_file
#include "kernels/kernels.h"    // kernels_set_threads
#include "learner/checkpoint.h"  // ckpt_save
#include "learner/critic.h"
#include "learner/gae.h"
#include "learner/grpo.h"
#include "learner/value_loss.h"
#include "test.h"

#define WORK "test_ppo.work"
#define VOCAB 40
#define MAXG 8
#define MAXN 4
#define MAXP 6
#define MAXC 8
#define TARGET 7

#include "tiny_policy.h"  // tiny_model, seq_probs, rnd, g_kv

static void near(double got, double want, double tol, const char *what) {
    CHECK_MSG(fabs(got - want) <= tol, "%s: %.9g, expected %.9g", what, got, want);
}

// ---- (a) GAE -----------------------------------------------------------------------------

static void test_gae(void) {
    // Two sequences in the position layout: positions 1..3 of the first and
    // 5..6 of the second predict completion tokens (mask 1); 0 and 4 are
    // prompt positions (their rewards and values must be ignored).
    int off[3] = {0, 4, 7};
    unsigned char mask[7] = {0, 1, 1, 1, 0, 1, 1};
    rl_seqs s = {2, off, mask};
    float r[7] = {9, 0, 0, 1, 9, -0.25f, 2};  // outcome 1 on the last token; a KL penalty -0.25 in the second
    float v[7] = {9, 0.5f, 0.25f, 0.75f, 9, 1, 0.5f};
    float a[7], R[7];
    // gamma = lam = 1: A_t = (sum of rewards from t on) - V_t, R_t = sum of rewards from t on.
    //   seq 1: A3 = 1 - 0.75 = 0.25, A2 = 1 - 0.25 = 0.75, A1 = 1 - 0.5 = 0.5; R = 1, 1, 1
    //   seq 2: A6 = 2 - 0.5 = 1.5 (R 2), A5 = -0.25 + 2 - 1 = 0.75 (R 1.75)
    CHECK_OK(gae_compute(&s, r, v, 1, 1, a, R));
    const float a1[7] = {0, 0.5f, 0.75f, 0.25f, 0, 0.75f, 1.5f}, R1[7] = {0, 1, 1, 1, 0, 1.75f, 2};
    for (int t = 0; t < 7; t++) {
        near(a[t], a1[t], 1e-7, "GAE(1, 1) advantage");
        near(R[t], R1[t], 1e-7, "GAE(1, 1) return");
    }
    // gamma = lam = 0.5 (gamma * lam = 0.25):
    //   t3: delta = 1 + 0 - 0.75 = 0.25, A = 0.25, R = 1
    //   t2: delta = 0 + 0.5 * 0.75 - 0.25 = 0.125, A = 0.125 + 0.25 * 0.25 = 0.1875, R = 0.4375
    //   t1: delta = 0 + 0.5 * 0.25 - 0.5 = -0.375, A = -0.375 + 0.25 * 0.1875 = -0.328125, R = 0.171875
    //   t6: delta = 2 - 0.5 = 1.5, A = 1.5, R = 2
    //   t5: delta = -0.25 + 0.5 * 0.5 - 1 = -1, A = -1 + 0.25 * 1.5 = -0.625, R = 0.375
    CHECK_OK(gae_compute(&s, r, v, 0.5, 0.5, a, R));
    const float a2[7] = {0, -0.328125f, 0.1875f, 0.25f, 0, -0.625f, 1.5f};
    const float R2[7] = {0, 0.171875f, 0.4375f, 1, 0, 0.375f, 2};
    for (int t = 0; t < 7; t++) {
        near(a[t], a2[t], 1e-7, "GAE(0.5, 0.5) advantage");
        near(R[t], R2[t], 1e-7, "GAE(0.5, 0.5) return");
    }
    // A hole (mask 1, 0, 1) carries the next value and advantage through, as
    // verl's masked loop: t2: A = 1 - 0.25 = 0.75; t0: delta = 0 + 0.25 - 0.5,
    // A = -0.25 + 0.75 = 0.5.
    int off1[2] = {0, 3};
    unsigned char hole[3] = {1, 0, 1};
    rl_seqs sh = {1, off1, hole};
    float rh[3] = {0, 5, 1}, vh[3] = {0.5f, 7, 0.25f}, ah[3], Rh[3];
    CHECK_OK(gae_compute(&sh, rh, vh, 1, 1, ah, Rh));
    near(ah[0], 0.5, 1e-7, "hole A0");
    near(ah[1], 0, 0, "hole A1");
    near(ah[2], 0.75, 1e-7, "hole A2");
    CHECK(gae_compute(&s, r, v, 1.5, 1, a, R) == RLC_ERR_ARG);

    // Whitening the GAE(1, 1) advantages 0.5, 0.75, 0.25, 0.75, 1.5: mean 0.75,
    // deviations -0.25, 0, -0.5, 0, 0.75, sum of squares 0.875, unbiased var
    // 0.875 / 4 = 0.21875: x -> (x - 0.75) / sqrt(0.21875 + 1e-8).
    CHECK_OK(gae_compute(&s, r, v, 1, 1, a, R));
    double mean, sd;
    CHECK_OK(gae_whiten(&s, a, &mean, &sd));
    near(mean, 0.75, 1e-12, "whiten mean");
    near(sd, sqrt(0.21875), 1e-12, "whiten std");
    for (int t = 0; t < 7; t++) {
        double want = mask[t] ? (a1[t] - 0.75) / sqrt(0.21875 + 1e-8) : 0;
        near(a[t], want, 1e-6, "whitened advantage");
    }
    unsigned char one[7] = {0, 0, 1, 0, 0, 0, 0};
    rl_seqs s1 = {2, off, one};
    CHECK(gae_whiten(&s1, a, NULL, NULL) == RLC_ERR_ARG);  // one token: no variance
    printf("(a) GAE and whitening: hand values match\n");
}

// ---- (b) the value loss ---------------------------------------------------------------

static void test_value_loss(void) {
    // c = 0.5, token-mean over N = 4 (w = 1/4):
    //   t0: v 1, old 0.8, R 2: vclip = 1 (inside [0.3, 1.3]); l1 = l2 = 1: unclipped; dv = w (1 - 2) = -0.25
    //   t1: v 2, old 1, R 1: vclip 1.5, l1 = 1 > l2 = 0.25: unclipped; dv = w (2 - 1) = 0.25
    //   t2: v 2, old 1, R 3: vclip 1.5, l1 = 1 < l2 = 2.25: clipped; dv = 0
    //   t3: v 0, old 0.25, R 0.5: vclip 0, l1 = l2 = 0.25: unclipped; dv = w (0 - 0.5) = -0.125
    //   loss = 0.5 * (1 + 1 + 2.25 + 0.25) / 4 = 0.5625; clipfrac = 1/4
    int off[2] = {0, 4};
    rl_seqs s = {1, off, NULL};
    float v[4] = {1, 2, 2, 0}, vo[4] = {0.8f, 1, 1, 0.25f}, R[4] = {2, 1, 3, 0.5f}, dv[4] = {0};
    rl_agg agg = {RL_AGG_TOKEN_MEAN, 0, 0, 0};
    value_loss_stats st;
    CHECK_OK(value_loss_compute(&agg, &s, v, vo, R, 0.5, &st, dv));
    near(st.loss, 0.5625, 1e-7, "value loss");
    near(st.clipfrac, 0.25, 0, "vf_clipfrac");
    const float want[4] = {-0.25f, 0.25f, 0, -0.125f};
    for (int t = 0; t < 4; t++) near(dv[t], want[t], 1e-7, "dL/dv");
    CHECK(st.tokens == 4);
    CHECK(value_loss_compute(&agg, &s, v, vo, R, -1, &st, dv) == RLC_ERR_ARG);

    // Central differences of the returned loss (double over float inputs) on
    // random data, two sequences with a mask, token-mean and seq-mean-token-mean.
    enum { T = 11 };
    int off2[3] = {0, 5, 11};
    unsigned char m2[T] = {0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1};
    rl_seqs s2 = {2, off2, m2};
    float x[T], xo[T], xr[T], g[T];
    uint64_t z = 12345;
    for (int t = 0; t < T; t++) {
        z = z * 6364136223846793005ull + 1442695040888963407ull;
        x[t] = (float)((double)(z >> 40) / (1 << 24) * 2 - 1);
        xo[t] = x[t] + (float)(((t * 7) % 5) - 2) * 0.3f;  // some beyond the clip range, some inside
        xr[t] = (float)(t % 3) * 0.5f - 0.4f;
    }
    for (int mode = 0; mode < 2; mode++) {
        rl_agg ag = {mode ? RL_AGG_SEQ_MEAN_TOKEN_MEAN : RL_AGG_TOKEN_MEAN, 20, 3, 0};  // a larger step
        memset(g, 0, sizeof g);
        CHECK_OK(value_loss_compute(&ag, &s2, x, xo, xr, 0.2, &st, g));
        double worst = 0;
        for (int t = 0; t < T; t++) {
            const float h = 1.0f / 1024;
            float x0 = x[t];
            value_loss_stats sp, sm;
            x[t] = x0 + h;
            CHECK_OK(value_loss_compute(&ag, &s2, x, xo, xr, 0.2, &sp, NULL));
            x[t] = x0 - h;
            CHECK_OK(value_loss_compute(&ag, &s2, x, xo, xr, 0.2, &sm, NULL));
            x[t] = x0;
            double fd = (sp.loss - sm.loss) / (2 * (double)h);
            worst = fmax(worst, fabs(fd - g[t]));
        }
        printf("(b) value loss (%s): max |dL/dv - fd| %.2e, clipfrac %.3f\n", rl_agg_name(ag.mode), worst, st.clipfrac);
        CHECK_MSG(worst < 1e-6, "value-loss gradient vs central differences: %.2e", worst);
    }
}

// ---- the tiny model and the data ------------------------------------------------------------



typedef struct dataset {
    sample s[MAXG][MAXN];
    int ng, n;
    rlc_msg_trajectory tr[MAXG][MAXN];
    grpo_group groups[MAXG];
} dataset;

// ng groups of n samples; samples with i < n / 2 (or, for n == 1, even
// groups) hold the target token and score 1, the others score 0.
static void make_data(dataset *d, int ng, int n) {
    memset(d, 0, sizeof *d);
    d->ng = ng, d->n = n;
    for (int g = 0; g < ng; g++) {
        int32_t prompt[MAXP];
        int P = draw_prompt(prompt);
        for (int i = 0; i < n; i++) {
            sample *s = &d->s[g][i];
            draw_completion(s, prompt, P, TARGET);
            int good = n == 1 ? g % 2 == 0 : i < n / 2;
            s->reward = good;
            if (good) s->comp[rnd() % (uint32_t)s->C] = TARGET;
        }
    }
}

// On-policy behaviour log-probs at version v, and the views grpo_step reads.
static void set_behaviour(dataset *d, actor_model *m, int v) {
    for (int g = 0; g < d->ng; g++) {
        for (int i = 0; i < d->n; i++) {
            sample *s = &d->s[g][i];
            double lp[MAXC];
            seq_probs(m, s->prompt, s->P, s->comp, s->C, TARGET, lp, NULL);
            for (int j = 0; j < s->C; j++) s->lp[j] = (float)lp[j], s->ver[j] = v;
            d->tr[g][i] = (rlc_msg_trajectory){.worker_id = "w0", .prompt_id = (uint64_t)g, .sample_index = (uint32_t)i,
                                               .prompt_tokens = s->prompt, .n_prompt_tokens = (uint32_t)s->P,
                                               .tokens = s->comp, .logprobs = s->lp, .versions = s->ver,
                                               .n_tokens = (uint32_t)s->C, .reward = s->reward};
        }
        d->groups[g] = (grpo_group){.trajs = d->tr[g], .n = d->n};
    }
}

static double target_prob(actor_model *m, const dataset *d) {
    double sum = 0;
    long n = 0;
    for (int g = 0; g < d->ng; g++)
        for (int i = 0; i < d->n; i++) {
            const sample *s = &d->s[g][i];
            double pt[MAXC];
            seq_probs(m, s->prompt, s->P, s->comp, s->C, TARGET, NULL, pt);
            for (int j = 0; j < s->C; j++) sum += pt[j], n++;
        }
    return sum / (double)n;
}

static grpo_config ppo_config(void) {
    grpo_config c;
    grpo_config_default(&c);
    c.ppo.enabled = 1;
    c.micro_batch_tokens = 64;
    c.minibatches = 2;
    return c;
}

// ---- (c) the critic's gradient --------------------------------------------------------------

static void test_critic_grad(void) {
    actor_model *pol = tiny_model(3);
    if (!pol) return;
    critic_config cc;
    critic_config_default(&cc);
    cc.micro_batch_tokens = 16;
    critic *cr = NULL;
    CHECK_OK(critic_create(pol, NULL, &cc, &cr));
    if (!cr) return;
    enum { T = 12 };
    int tok[T], cu[3] = {0, 5, 12};
    for (int i = 0; i < T; i++) tok[i] = 2 + (int)(rnd() % (VOCAB - 2));
    actor_batch b = {T, 2, tok, cu, NULL};
    float *head = critic_head(cr), *hg, v[T], a[T], vp[T], vm[T];
    int C = actor_model_config(critic_model(cr))->hidden_size;
    for (int k = 0; k <= C; k++) head[k] = (float)((int)(rnd() % 21) - 10) / 40;  // a nonzero head
    for (int i = 0; i < T; i++) a[i] = (float)((int)(rnd() % 21) - 10) / 10;
    CHECK_OK(critic_forward(cr, &b, v));
    CHECK_OK(critic_backward(cr, a));
    float *g = critic_grads(cr, &hg);
    // L = sum a_p V_p; central differences in float32 with steps of 1e-2 (the head: V is linear in it)
    actor_params *p = actor_model_params(critic_model(cr));
    const actor_tensor_info *fn = actor_params_find(p, "model.norm.weight");
    const actor_tensor_info *emb = actor_params_find(p, "model.embed_tokens.weight");
    CHECK(actor_params_find(p, "lm_head.weight") == NULL);  // tied: no lm_head
    double worst_h = 0, worst_t = 0, gmax_t = 0;
    for (int k = 0; k <= C + 4 && fn && emb; k++) {
        float *x = k <= C ? head + k : k < C + 3 ? p->data + fn->offset + (size_t)(k - C - 1)
                                                 : p->data + emb->offset + (size_t)tok[0] * C;
        float gk = k <= C ? hg[k] : g[x - p->data];
        float x0 = *x, h = 1e-2f;
        *x = x0 + h;
        CHECK_OK(critic_forward(cr, &b, vp));
        *x = x0 - h;
        CHECK_OK(critic_forward(cr, &b, vm));
        *x = x0;
        double lp = 0, lm = 0;
        for (int i = 0; i < T; i++) lp += a[i] * (double)vp[i], lm += a[i] * (double)vm[i];
        double fd = (lp - lm) / (2 * (double)h), err = fabs(fd - gk);
        if (k <= C) worst_h = fmax(worst_h, err / (1 + fabs(fd)));
        else worst_t = fmax(worst_t, err), gmax_t = fmax(gmax_t, fabs(gk));
    }
    printf("(c) critic gradient vs central differences: head %.2e, trunk (final norm, embedding) %.2e of %.2e\n",
           worst_h, worst_t, gmax_t);
    CHECK_MSG(worst_h < 1e-3, "head gradient: %.2e", worst_h);
    CHECK_MSG(worst_t < 2e-2 * gmax_t && gmax_t > 0, "trunk gradient: %.2e of %.2e", worst_t, gmax_t);
    critic_free(cr);
    actor_model_free(pol);
}

// ---- (d) one step ------------------------------------------------------------------------------

static void test_one_step(void) {
    static dataset d;
    make_data(&d, 6, 1);  // groups of one: classic PPO
    actor_model *m = tiny_model(11);
    if (!m) return;
    grpo_config c = ppo_config();
    c.schedule.lr = 1e-3;
    c.ppo.critic.schedule.lr = 1e-3;
    grpo_trainer *t = NULL;
    CHECK_OK(grpo_trainer_create(m, NULL, &c, 0, &t));
    if (!t) return;
    critic *cr = grpo_trainer_critic(t);
    CHECK(cr != NULL);
    actor_params *pp = actor_model_params(m), *cp = actor_model_params(critic_model(cr));
    float *p0 = rlc_malloc(pp->numel * sizeof(float)), *c0 = rlc_malloc(cp->numel * sizeof(float));
    memcpy(p0, pp->data, pp->numel * sizeof(float));
    memcpy(c0, cp->data, cp->numel * sizeof(float));
    // the critic starts as the policy's trunk
    const actor_tensor_info *e = actor_params_find(pp, "model.layers.1.mlp.down_proj.weight");
    const actor_tensor_info *ec = actor_params_find(cp, "model.layers.1.mlp.down_proj.weight");
    CHECK(e && ec && memcmp(pp->data + e->offset, cp->data + ec->offset, e->numel * sizeof(float)) == 0);
    set_behaviour(&d, m, 0);
    grpo_stats s;
    CHECK_OK(grpo_step(t, d.groups, d.ng, 0, &s));
    int pmoved = 0, cmoved = 0;
    for (size_t i = 0; i < pp->numel; i++) pmoved += pp->data[i] != p0[i];
    for (size_t i = 0; i < cp->numel; i++) cmoved += cp->data[i] != c0[i];
    float *head = critic_head(cr);
    int C = actor_model_config(m)->hidden_size, hmoved = 0;
    for (int k = 0; k <= C; k++) hmoved += head[k] != 0;
    printf("(d) one step, groups of 1: policy %d, critic trunk %d, head %d elements moved; vf_loss %.4f values %.3f "
           "returns %.3f adv mean %.2e std %.4f explained var %.3f critic grad norm %.4f\n",
           pmoved, cmoved, hmoved, s.vf_loss, s.values_mean, s.returns_mean, s.adv_mean, s.adv_std,
           s.vf_explained_var, s.critic_grad_norm);
    CHECK(s.updated && s.version == 1);
    CHECK(pmoved > 0 && hmoved == C + 1);
    CHECK(cmoved > 0);  // two minibatches: the second sees a nonzero head
    CHECK(s.values_mean == 0);  // a zero head: every old value is exactly 0
    CHECK(s.returns_mean > 0 && s.returns_mean < 1);
    CHECK(fabs(s.adv_mean) < 1e-6 && s.adv_std > 0.9 && s.adv_std <= 1);
    CHECK(s.vf_loss > 0 && isfinite(s.vf_loss) && s.critic_grad_norm > 0 && s.critic_lr == 1e-3);
    json_t *j = grpo_stats_json(&s);
    CHECK(j && json_object_get(j, "vf_loss") && json_object_get(j, "vf_explained_var") &&
          json_object_get(j, "critic_grad_norm"));
    json_decref(j);
    rlc_free(p0);
    rlc_free(c0);
    grpo_trainer_free(t);
    actor_model_free(m);
}

// ---- (e) learning ------------------------------------------------------------------------------

static void test_learning(void) {
    static dataset d;
    make_data(&d, 8, 4);
    actor_model *m = tiny_model(51);
    if (!m) return;
    grpo_config c = ppo_config();
    c.schedule.lr = 3e-3;
    c.ppo.critic.schedule.lr = 3e-3;
    c.ppo_epochs = 2;
    grpo_trainer *t = NULL;
    CHECK_OK(grpo_trainer_create(m, NULL, &c, 0, &t));
    if (!t) return;
    double p0 = target_prob(m, &d), vf0 = 0, ev = 0;
    grpo_stats s;
    for (int step = 0; step < 30; step++) {
        set_behaviour(&d, m, step);
        if (step > 0) rlc_alloc_fail_after(0);  // steady state: a step allocates nothing
        CHECK_OK(grpo_step(t, d.groups, d.ng, step, &s));
        rlc_alloc_fail_after(-1);
        if (step == 0) vf0 = s.vf_loss;
        ev = s.vf_explained_var;
    }
    double p1 = target_prob(m, &d);
    printf("(e) 30 PPO steps: p(target) %.4f -> %.4f, vf_loss %.4f -> %.4f, explained variance %.3f, values %.3f\n",
           p0, p1, vf0, s.vf_loss, ev, s.values_mean);
    CHECK_MSG(s.vf_loss < 0.5 * vf0, "value loss %.4f -> %.4f", vf0, s.vf_loss);
    CHECK_MSG(p1 > 3 * p0, "p(target) %.4f -> %.4f", p0, p1);
    CHECK(ev > 0.2);
    grpo_trainer_free(t);
    actor_model_free(m);
}

// ---- (f) the critic folder ---------------------------------------------------------------------

static rlc_status save_critic(void *ud, const char *dir) {
    char f[1024];
    snprintf(f, sizeof f, "%s/critic", dir);
    return critic_save(ud, f);
}

static void test_folder(void) {
    CHECK(system("rm -rf " WORK) == 0);
    actor_model *pol = tiny_model(5);
    if (!pol) return;
    critic_config cc;
    critic_config_default(&cc);
    cc.micro_batch_tokens = 16;
    cc.schedule.lr = 1e-2;
    critic *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(critic_create(pol, NULL, &cc, &a));
    if (!a) return;
    enum { T = 9 };
    int tok[T], cu[2] = {0, T};
    for (int i = 0; i < T; i++) tok[i] = 2 + (int)(rnd() % (VOCAB - 2));
    actor_batch bt = {T, 1, tok, cu, NULL};
    float v[T], dv[T], v2[T];
    for (int i = 0; i < T; i++) dv[i] = (float)(i % 3) - 1;
    for (int k = 0; k < 2; k++) {  // two steps: nonzero head and moments
        CHECK_OK(critic_forward(a, &bt, v));
        CHECK_OK(critic_backward(a, dv));
        CHECK_OK(critic_step(a, 1e-2, NULL));
    }
    CHECK_OK(critic_save(a, WORK "/critic"));

    // names and shapes as transformers writes LlamaForTokenClassification(num_labels=1)
    safetensors_file *f = NULL;
    CHECK_OK(safetensors_open(WORK "/critic/model.safetensors", &f));
    int C = actor_model_config(pol)->hidden_size;
    if (f) {
        const safetensors_tensor *w = safetensors_find(f, "score.weight"), *bb = safetensors_find(f, "score.bias");
        CHECK(w && w->ndim == 2 && w->shape[0] == 1 && w->shape[1] == C);
        CHECK(bb && bb->ndim == 1 && bb->shape[0] == 1);
        CHECK(safetensors_find(f, "model.embed_tokens.weight") && safetensors_find(f, "model.norm.weight") &&
              safetensors_find(f, "model.layers.1.self_attn.q_proj.weight"));
        CHECK(safetensors_find(f, "lm_head.weight") == NULL);
        int model_prefixed = 1;
        for (int i = 0; i < safetensors_count(f); i++) {
            const char *n = safetensors_get(f, i)->name;
            model_prefixed &= strncmp(n, "model.", 6) == 0 || strncmp(n, "score.", 6) == 0;
        }
        CHECK(model_prefixed);
        safetensors_close(f);
    }
    json_t *cfg = NULL;
    CHECK_OK(rlc_json_load_file(WORK "/critic/config.json", &cfg));
    if (cfg) {
        json_t *arch = json_array_get(json_object_get(cfg, "architectures"), 0);
        CHECK(arch && strcmp(json_string_value(arch), "LlamaForTokenClassification") == 0);
        CHECK(json_integer_value(json_object_get(cfg, "num_labels")) == 1);
        CHECK(strcmp(json_string_value(json_object_get(cfg, "model_type")), "llama") == 0);
        json_decref(cfg);
    }

    // critic.path: the same weights, bit for bit
    CHECK_OK(critic_create(pol, WORK "/critic", &cc, &b));
    actor_params *pa = actor_model_params(critic_model(a));
    if (b) {
        actor_params *pb = actor_model_params(critic_model(b));
        CHECK(pa->numel == pb->numel && memcmp(pa->data, pb->data, pa->numel * sizeof(float)) == 0);
        CHECK(memcmp(critic_head(a), critic_head(b), (size_t)(C + 1) * sizeof(float)) == 0);
    }
    // a resume (weights + moments): the next step gives the same bytes
    CHECK_OK(critic_create(pol, NULL, &cc, &c));
    if (c) {
        CHECK_OK(critic_load(c, WORK "/critic"));
        CHECK(critic_steps(c) == 2);
        CHECK_OK(critic_forward(a, &bt, v));
        CHECK_OK(critic_backward(a, dv));
        CHECK_OK(critic_step(a, 1e-2, NULL));
        CHECK_OK(critic_forward(c, &bt, v2));
        CHECK(memcmp(v, v2, sizeof v) == 0);
        CHECK_OK(critic_backward(c, dv));
        CHECK_OK(critic_step(c, 1e-2, NULL));
        actor_params *pc = actor_model_params(critic_model(c));
        CHECK_MSG(memcmp(pa->data, pc->data, pa->numel * sizeof(float)) == 0 &&
                      memcmp(critic_head(a), critic_head(c), (size_t)(C + 1) * sizeof(float)) == 0,
                  "a resumed critic steps differently");
    }
    // inside a checkpoint (write_extra, as the learner saves it): pruning and
    // replacing step folders removes their critic/ too
    optim_adamw_config oc = optim_adamw_defaults();
    optim_adamw *po = NULL;
    CHECK_OK(optim_adamw_create(&oc, actor_model_params(pol), &po));
    for (long step = 1; step <= 3 && po; step++) {
        ckpt_save_args ca = {.run_dir = WORK "/run", .step = step < 3 ? step : 2, .params = actor_model_params(pol),
                             .config = actor_model_config(pol), .optim = po, .keep_last = 1,
                             .write_extra = save_critic, .extra_ud = a};
        CHECK_OK(ckpt_save(&ca, NULL, 0));
    }
    CHECK(!rlc_is_dir(WORK "/run/checkpoints/step-1"));
    CHECK(rlc_file_exists(WORK "/run/checkpoints/step-2/critic/model.safetensors"));
    CHECK(!rlc_is_dir(WORK "/run/checkpoints/step-2.old.tmp"));
    optim_adamw_free(po);
    // critic.path on a causal-LM folder (the policy's checkpoint): its trunk, its lm_head ignored, a zero head
    critic *d = NULL;
    CHECK_OK(critic_create(pol, WORK "/run/checkpoints/step-2", &cc, &d));
    if (d) {
        const actor_params *pp = actor_model_params(pol), *pd = actor_model_params(critic_model(d));
        const actor_tensor_info *e1 = actor_params_find(pp, "model.layers.0.mlp.up_proj.weight");
        const actor_tensor_info *e2 = actor_params_find(pd, "model.layers.0.mlp.up_proj.weight");
        CHECK(e1 && e2 && memcmp(pp->data + e1->offset, pd->data + e2->offset, e1->numel * sizeof(float)) == 0);
        int zero = 1;
        for (int k = 0; k <= C; k++) zero &= critic_head(d)[k] == 0;
        CHECK(zero);
        critic_free(d);
    }

    // a causal-LM folder is no critic to resume from
    CHECK(critic_load(a, "no/such/folder") != RLC_OK);
    printf("(f) critic folder: transformers names, config.json, bit-exact reload and resume\n");
    critic_free(a);
    critic_free(b);
    critic_free(c);
    actor_model_free(pol);
}

int main(void) {
    kernels_set_threads(2);
    actor_model *m = tiny_model(1);
    if (!m) return test_finish("test_ppo");
    CHECK_OK(actor_kv_create(actor_model_config(m), 1, MAXP + MAXC, MAXP + MAXC, &g_kv));
    actor_model_free(m);
    if (!g_kv) return test_finish("test_ppo");
    test_gae();
    test_value_loss();
    test_critic_grad();
    test_one_step();
    test_learning();
    test_folder();
    actor_kv_free(g_kv);
    return test_finish("test_ppo");
}

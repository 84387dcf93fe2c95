// test_dp.c: data-parallel learner ranks (learner/dp.h) on the CPU, over
// real tcp on 127.0.0.1:
//   (a) lrn_dp_allreduce_sum / _f64 / lrn_dp_broadcast over 3 ranks
//       (threads) give the exact sum / bytes on every rank, with n not a
//       multiple of the chunk; a rank that leaves gives RLC_ERR_LIMIT naming
//       it on rank 0 (and RLC_ERR_STATE on the others); a rank that never
//       joins, the same at create;
//   (b) a GRPO step (two, KL and the proximal recompute on, 2 minibatches,
//       many rows) on 1, 2 and 3 ranks (forked processes, each with its own
//       policy) gives the same weights (to float association) and loss, and
//       the same bits on every rank of a group; the same for PPO with a
//       critic (GAE, value clipping), where the policy's AND the critic's
//       weights (trunk and head) and the value-loss statistics must match,
//       from a state (policy, critic, moments, version) that only rank 0
//       had and sent in rl_dp's INIT;
//   (c) `rlc train` of the stories experiment (tests/test_rl.c's) as 2 ranks
//       (RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT, as torchrun sets
//       them) completes, both processes exit 0, and the first step's
//       metrics equal the 1-rank run's (loss to 1e-5; the rollouts are the
//       same: seeded per prompt, from the same weights); the same with
//       algorithm.name=ppo, the critic's metrics (vf_loss, ...) included.
#include <pthread.h>   // pthread_create
#include <stdint.h>    // int32_t
#include <stdlib.h>    // setenv, malloc, free
#include <string.h>    // strstr
#include <signal.h>    // kill, SIGKILL
#include <sys/wait.h>  // waitpid
#include <unistd.h>    // fork, pipe

#include "core/core.h"
#include "core/dist.h"    // dist_env, dist_find_free_port
#include "kernels/kernels.h"  // kernels_set_threads
#include "learner/dp.h"   // lrn_dp
#include "learner/critic.h" // critic_create, critic_model, critic_head
#include "learner/grpo.h" // grpo_trainer
#include "learner/rl_dp.h" // rl_dp_send_init, rl_dp_recv_init

#define VOCAB 40
#define MAXP 6
#define MAXC 8
#include "tiny_policy.h"  // tiny_model, rnd, sample, draw_prompt, draw_completion

static dist_env env_of(int rank, int world, int port) {
    dist_env e = dist_env_single();
    e.rank = rank, e.world = world, e.master_port = port;
    snprintf(e.master_addr, sizeof e.master_addr, "127.0.0.1");
    return e;
}

// ---- (a) the collectives ---------------------------------------------------------------

enum { N_A = 2507, CHUNK_A = 1000, WORLD_A = 3 };

typedef struct {
    int rank, world, port, mode;  // mode 0: collectives; 1: rank 2 leaves; 2: rank 2 never joins
    rlc_status s_create, s_op;
    char msg[512];
    int bad;  // wrong values
} rank_job;

static void *rank_main(void *arg) {
    rank_job *j = arg;
    dist_env e = env_of(j->rank, j->world, j->port);
    // rank 0 gives up first, so that the others hear its abort
    lrn_dp_config c = {.timeout_ms = j->mode ? (j->rank == 0 ? 1500 : 6000) : 20000, .chunk = CHUNK_A};
    lrn_dp *d = NULL;
    j->s_create = lrn_dp_create(&e, &c, &d);
    if (j->s_create != RLC_OK) {
        snprintf(j->msg, sizeof j->msg, "%s", rlc_last_error());
        return NULL;
    }
    if (j->mode == 1 && j->rank == 2) {  // leaves the group at once
        lrn_dp_free(d);
        return NULL;
    }
    static float fb[WORLD_A][N_A];
    static double db[WORLD_A][N_A];
    static unsigned char bb[WORLD_A][5 * 1000 + 3];
    float *f = fb[j->rank];
    double *x = db[j->rank];
    for (int i = 0; i < N_A; i++) f[i] = (float)(j->rank * 1000 + i) * 0.5f, x[i] = j->rank + i * 0.25;
    j->s_op = lrn_dp_allreduce_sum(d, f, N_A);
    if (j->s_op == RLC_OK && j->mode == 0) {
        for (int i = 0; i < N_A; i++) {
            float want = 0;
            for (int r = 0; r < j->world; r++) want += (float)(r * 1000 + i) * 0.5f;
            if (f[i] != want) j->bad++;
        }
        j->s_op = lrn_dp_allreduce_sum_f64(d, x, N_A);
        for (int i = 0; j->s_op == RLC_OK && i < N_A; i++)
            if (x[i] != 3.0 + 3 * i * 0.25) j->bad++;
        unsigned char *b = bb[j->rank];
        size_t nb = sizeof bb[0];
        for (size_t i = 0; i < nb; i++) b[i] = j->rank == 0 ? (unsigned char)(i * 7 + 1) : 0;
        if (j->s_op == RLC_OK) j->s_op = lrn_dp_broadcast(d, b, nb, 0);
        for (size_t i = 0; j->s_op == RLC_OK && i < nb; i++)
            if (b[i] != (unsigned char)(i * 7 + 1)) j->bad++;
    }
    if (j->s_op != RLC_OK) snprintf(j->msg, sizeof j->msg, "%s", rlc_last_error());
    lrn_dp_free(d);
    return NULL;
}

static void run_ranks(int mode, rank_job jobs[WORLD_A]) {
    int port = 0;
    CHECK_OK(dist_find_free_port(&port));
    pthread_t th[WORLD_A];
    int started[WORLD_A] = {0};
    for (int r = 0; r < WORLD_A; r++) {
        jobs[r] = (rank_job){.rank = r, .world = WORLD_A, .port = port - 1, .mode = mode};  // rank 0 binds port
        if (mode == 2 && r == 2) continue;
        started[r] = pthread_create(&th[r], NULL, rank_main, &jobs[r]) == 0;
        CHECK(started[r]);
    }
    for (int r = 0; r < WORLD_A; r++)
        if (started[r]) pthread_join(th[r], NULL);
}

static void test_collectives(void) {
    rank_job j[WORLD_A];
    run_ranks(0, j);
    for (int r = 0; r < WORLD_A; r++) {
        CHECK_MSG(j[r].s_create == RLC_OK && j[r].s_op == RLC_OK, "rank %d: %s", r, j[r].msg);
        CHECK_MSG(j[r].bad == 0, "rank %d: %d values wrong", r, j[r].bad);
    }
    // rank 2 leaves after joining: rank 0 names it, rank 1 hears rank 0's abort
    run_ranks(1, j);
    CHECK_MSG(j[0].s_op == RLC_ERR_LIMIT && strstr(j[0].msg, "rank 2"), "rank 0: %s: %s",
              rlc_status_name(j[0].s_op), j[0].msg);
    CHECK_MSG(j[1].s_op == RLC_ERR_STATE && strstr(j[1].msg, "rank 2"), "rank 1: %s: %s",
              rlc_status_name(j[1].s_op), j[1].msg);
    // rank 2 never joins
    run_ranks(2, j);
    CHECK_MSG(j[0].s_create == RLC_ERR_LIMIT && strstr(j[0].msg, "rank 2 never joined"), "rank 0: %s: %s",
              rlc_status_name(j[0].s_create), j[0].msg);
    CHECK_MSG(j[1].s_create != RLC_OK, "rank 1 joined a group of 3 with 2 ranks");
    printf("collectives: exact sums on 3 ranks; dead rank: %s\n", j[0].msg);
}

// ---- (b) a GRPO step on 1, 2, 3 ranks ------------------------------------------------

enum { NG = 6, NS = 4 };

typedef struct {
    sample s[NG][NS];
    rlc_msg_trajectory tr[NG][NS];
    grpo_group groups[NG];
} step_data;

static void make_step_data(step_data *d) {
    g_rng = 0x2545F4914F6CDD1Dull;
    memset(d, 0, sizeof *d);
    for (int g = 0; g < NG; g++) {
        int32_t prompt[MAXP];
        int P = draw_prompt(prompt);
        for (int i = 0; i < NS; i++) {
            sample *s = &d->s[g][i];
            draw_completion(s, prompt, P, 3);
            s->reward = i == 0 ? 1.0 : i == 1 ? 0.0 : (double)(rnd() & 1);
            for (int k = 0; k < s->C; k++) s->lp[k] = -0.5f - (float)(rnd() % 1000) / 500.0f, s->ver[k] = 0;
            d->tr[g][i] = (rlc_msg_trajectory){.prompt_tokens = s->prompt, .n_prompt_tokens = (uint32_t)s->P,
                                               .tokens = s->comp, .logprobs = s->lp, .versions = s->ver,
                                               .n_tokens = (uint32_t)s->C, .reward = s->reward};
        }
        d->groups[g] = (grpo_group){.trajs = d->tr[g], .n = NS};
    }
}

enum { NSTAT = 6 };  // per step: loss, grad_norm, vf_loss, vf_clipfrac, critic_grad_norm, vf_explained_var

static int write_all(int fd, const void *buf, size_t n) {
    for (size_t at = 0; at < n;) {
        ssize_t w = write(fd, (const char *)buf + at, n - at);
        if (w <= 0) return 0;
        at += (size_t)w;
    }
    return 1;
}

// The critic's trunk then head, as one array (caller frees); *n its length.
static float *critic_weights(grpo_trainer *t, size_t *n) {
    critic *cr = grpo_trainer_critic(t);
    *n = 0;
    if (!cr) return NULL;
    actor_params *p = actor_model_params(critic_model(cr));
    size_t nh = (size_t)actor_model_config(critic_model(cr))->hidden_size + 1;
    float *w = malloc((p->numel + nh) * sizeof(float));
    if (!w) return NULL;
    memcpy(w, p->data, p->numel * sizeof(float));
    memcpy(w + p->numel, critic_head(cr), nh * sizeof(float));
    *n = p->numel + nh;
    return w;
}

// One rank: two steps; writes their statistics, the policy's weights and
// (PPO) the critic's to fd. PPO: rank 0 first takes a step alone, before
// the group forms, and sends its state (policy and critic: weights, moments,
// counts, version) in rl_dp's INIT, which the other ranks must take.
static int step_rank(int rank, int world, int port, int fd, int ppo) {
    static step_data d;
    make_step_data(&d);
    kernels_set_threads(1);  // up to 3 ranks on 2 cores: no OpenMP threads spinning against each other
    actor_model *m = tiny_model(5);
    grpo_config c;
    grpo_config_default(&c);
    c.schedule.lr = 1e-3;
    c.micro_batch_tokens = 16;  // about one sample a row: many rows to deal out
    c.minibatches = 2;
    c.loss.kl_coef = 0.01;      // the reference's no-grad pass
    c.recompute_proximal = 1;   // the policy's no-grad pass
    c.max_staleness = 1;
    c.loss.entropy_coef = 0.001;
    if (ppo) {
        c.ppo.enabled = 1;
        c.ppo.gamma = 0.99, c.ppo.lam = 0.95;
        c.ppo.critic.schedule.lr = 1e-3;
        c.ppo.critic.cliprange_value = 0.02;  // some clipping in the second minibatch
        c.max_staleness = 3;                  // the data of version 0 still trains at version 2
    }
    grpo_trainer *t = NULL;
    lrn_dp *dp = NULL;
    dist_env e = env_of(rank, world, port - 1);
    lrn_dp_config dc = {.timeout_ms = 30000, .chunk = 777};
    rlc_status s = m ? grpo_trainer_create(m, NULL, &c, 0, &t) : RLC_ERR_NOMEM;
    int64_t u = 0;
    if (s == RLC_OK && ppo && rank == 0) {  // alone: moves the policy, the critic and their moments
        s = grpo_step(t, d.groups, NG, u, NULL);
        u++;
    }
    if (s == RLC_OK) s = lrn_dp_create(&e, &dc, &dp);
    if (s == RLC_OK) s = grpo_trainer_set_dp(t, dp);
    if (s == RLC_OK && ppo) s = rank == 0 ? rl_dp_send_init(dp, t, m) : rl_dp_recv_init(dp, t, m);
    if (s == RLC_OK && ppo) u = grpo_trainer_version(t);
    double out[2][NSTAT];
    memset(out, 0, sizeof out);
    for (int k = 0; k < 2 && s == RLC_OK; k++) {
        grpo_stats st;
        s = grpo_step(t, d.groups, NG, u + k, &st);
        double x[NSTAT] = {st.loss, st.grad_norm, st.vf_loss, st.vf_clipfrac, st.critic_grad_norm,
                           st.vf_explained_var};
        memcpy(out[k], x, sizeof x);
        if (s == RLC_OK && !st.updated) s = rlc_errorf(RLC_ERR_STATE, "step %d did not update", k);
    }
    if (s != RLC_OK) fprintf(stderr, "rank %d of %d: %s\n", rank, world, rlc_last_error());
    actor_params *p = m ? actor_model_params(m) : NULL;
    size_t n = p ? p->numel : 0, nc = 0;
    float *cw = t ? critic_weights(t, &nc) : NULL;
    int ok = s == RLC_OK && (!ppo || cw) && write_all(fd, out, sizeof out) && write_all(fd, &n, sizeof n) &&
             write_all(fd, p->data, n * sizeof(float)) && write_all(fd, &nc, sizeof nc) &&
             write_all(fd, cw, nc * sizeof(float));
    free(cw);
    lrn_dp_free(dp);
    grpo_trainer_free(t);
    actor_model_free(m);
    return ok ? 0 : 1;
}

static int read_all(int fd, void *buf, size_t n) {
    for (size_t at = 0; at < n;) {
        ssize_t r = read(fd, (char *)buf + at, n - at);
        if (r <= 0) return 0;
        at += (size_t)r;
    }
    return 1;
}

// What one rank reports: two steps' statistics, the policy's weights and
// the critic's (trunk then head; none without PPO).
typedef struct {
    double st[2][NSTAT];
    float *w, *cw;
    size_t n, nc;
} rank_out;

static int read_floats(int fd, float **w, size_t *n) {
    if (!read_all(fd, n, sizeof *n)) return 0;
    *w = malloc((*n ? *n : 1) * sizeof(float));
    return *w && read_all(fd, *w, *n * sizeof(float));
}

// Runs `world` ranks as processes; fills out[r] of each rank.
static int run_world(int world, int ppo, rank_out out[3]) {
    int port = 0;
    CHECK_OK(dist_find_free_port(&port));
    int fds[3];
    pid_t pid[3];
    memset(out, 0, 3 * sizeof *out);
    for (int r = 0; r < world; r++) {
        int pf[2];
        if (pipe(pf) != 0) return 0;
        fflush(NULL);
        pid[r] = fork();
        if (pid[r] == 0) {
            close(pf[0]);
            _exit(step_rank(r, world, port, pf[1], ppo));
        }
        close(pf[1]);
        fds[r] = pf[0];
    }
    int ok = 1;
    for (int r = 0; r < world; r++) {
        ok &= read_all(fds[r], out[r].st, sizeof out[r].st) && read_floats(fds[r], &out[r].w, &out[r].n) &&
              read_floats(fds[r], &out[r].cw, &out[r].nc);
        close(fds[r]);
    }
    for (int r = 0; r < world; r++) {
        int st = 0;
        waitpid(pid[r], &st, 0);
        ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    CHECK_MSG(ok, "world %d: a rank failed", world);
    return ok;
}

static void rank_out_free(rank_out *o) {
    free(o->w);
    free(o->cw);
    memset(o, 0, sizeof *o);
}

// The largest relative difference of a from b (n), and where.
static double max_rel(const float *a, const float *b, size_t n, size_t *at) {
    double worst = 0;
    *at = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)b[i]));
        if (e > worst) worst = e, *at = i;
    }
    return worst;
}

static void test_step_ranks(int ppo) {
    static const char *stat[NSTAT] = {"loss", "grad_norm", "vf_loss", "vf_clipfrac", "critic_grad_norm",
                                      "vf_explained_var"};
    const char *name = ppo ? "ppo" : "grpo";
    rank_out one[3];
    if (!run_world(1, ppo, one)) return;
    actor_model *m0 = tiny_model(5);  // the weights before the steps
    critic *c0 = NULL;                // the critic before the steps: the policy's trunk, a zero head
    critic_config cc;
    critic_config_default(&cc);
    if (ppo && m0) CHECK_OK(critic_create(m0, NULL, &cc, &c0));
    double moved = 0, cmoved = 0;
    for (size_t i = 0; m0 && i < one[0].n; i++)
        moved = fmax(moved, fabs(one[0].w[i] - actor_model_params(m0)->data[i]));
    for (size_t i = 0; c0 && i < one[0].nc && i < actor_model_params(critic_model(c0))->numel; i++)  // the trunk
        cmoved = fmax(cmoved, fabs(one[0].cw[i] - actor_model_params(critic_model(c0))->data[i]));
    critic_free(c0);
    actor_model_free(m0);
    CHECK_MSG(moved > 1e-4, "%s: the steps moved the weights by %g only", name, moved);
    CHECK_MSG(!ppo || (one[0].nc > 0 && cmoved > 1e-4), "ppo: the steps moved the critic by %g only", cmoved);
    CHECK_MSG(!ppo || (one[0].st[0][3] > 0 || one[0].st[1][3] > 0), "ppo: no value clipping happened");
    for (int world = 2; world <= 3; world++) {
        rank_out o[3];
        if (run_world(world, ppo, o) && o[0].n == one[0].n && o[0].nc == one[0].nc) {
            size_t at, cat;
            double worst = max_rel(o[0].w, one[0].w, one[0].n, &at);
            double cworst = max_rel(o[0].cw, one[0].cw, one[0].nc, &cat);
            CHECK_MSG(worst <= 1e-6, "%s world %d: weight %zu differs by %g (relative) from one rank's", name, world,
                      at, worst);
            CHECK_MSG(cworst <= 1e-6, "%s world %d: critic weight %zu differs by %g (relative) from one rank's", name,
                      world, cat, cworst);
            double sworst = 0;
            for (int k = 0; k < 2; k++)
                for (int i = 0; i < NSTAT; i++) {
                    double x = o[0].st[k][i], y = one[0].st[k][i], e = fabs(x - y) / fmax(1.0, fabs(y));
                    sworst = fmax(sworst, e);
                    CHECK_MSG(e <= 1e-6, "%s world %d step %d: %s %.9g, one rank %.9g", name, world, k, stat[i], x, y);
                }
            for (int r = 1; r < world; r++)
                CHECK_MSG(o[r].n == o[0].n && o[r].nc == o[0].nc &&
                          memcmp(o[r].w, o[0].w, o[0].n * sizeof(float)) == 0 &&
                          memcmp(o[r].cw, o[0].cw, o[0].nc * sizeof(float)) == 0 &&
                          memcmp(o[r].st[1], o[0].st[1], sizeof o[0].st[1]) == 0,
                          "%s world %d: rank %d holds other weights or statistics than rank 0", name, world, r);
            printf("%s on %d ranks: max relative difference: policy %.3g, critic %.3g, statistics %.3g; losses %.9f "
                   "%.9f (one rank %.9f %.9f)", name, world, worst, cworst, sworst, o[0].st[0][0], o[0].st[1][0],
                   one[0].st[0][0], one[0].st[1][0]);
            if (ppo)
                printf("; vf_loss %.9f %.9f (one rank %.9f %.9f), vf_clipfrac %.4f", o[0].st[0][2], o[0].st[1][2],
                       one[0].st[0][2], one[0].st[1][2], o[0].st[1][3]);
            printf("\n");
        }
        for (int r = 0; r < world; r++) rank_out_free(&o[r]);
    }
    rank_out_free(&one[0]);
}

// ---- (c) rlc train on 2 ranks ------------------------------------------------------

static const char *bin(void) { return getenv("RLC_BIN") ? getenv("RLC_BIN") : "./rlc"; }

// `rlc train` of the experiment into dir as rank `rank` of `world` (world 1:
// no launcher variables); algorithm.name=ppo when ppo; stderr to dir.rankN.log.
static pid_t start_train(const char *exp, const char *dir, int rank, int world, int port, int ppo) {
    char out[1200], log[1200];
    snprintf(out, sizeof out, "output.dir=%s", dir);
    snprintf(log, sizeof log, "%s.rank%d.log", dir, rank);
    char *args[] = {(char *)bin(), "train", (char *)exp, "--set", out, "--set", "algorithm.steps=2",
                    "--set", "algorithm.batch_prompts=4", "--set", "algorithm.group_size=4",
                    "--set", "sampling.max_new_tokens=32", "--quiet", NULL, NULL, NULL};
    if (ppo) args[13] = "--set", args[14] = "algorithm.name=ppo", args[15] = "--quiet";
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(log, "w", stderr);
        (void)f;
        dup2(2, 1);
        if (world > 1) {
            char v[32];
            snprintf(v, sizeof v, "%d", rank), setenv("RANK", v, 1);
            snprintf(v, sizeof v, "%d", world), setenv("WORLD_SIZE", v, 1);
            snprintf(v, sizeof v, "%d", port), setenv("MASTER_PORT", v, 1);
            setenv("MASTER_ADDR", "127.0.0.1", 1);
            setenv("RLC_DP_TIMEOUT_S", "60", 1);
        }
        execv(bin(), args);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid, double seconds) {
    double end = rlc_now() + seconds;
    int status;
    while (rlc_now() < end) {
        if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        usleep(20000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

// The first metrics line of dir, and the number of lines.
static json_t *first_metrics(const char *dir, int *lines) {
    char path[1200], line[16384];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    FILE *f = fopen(path, "r");
    *lines = 0;
    json_t *first = NULL;
    while (f && fgets(line, sizeof line, f))
        if ((*lines)++ == 0) first = json_loads(line, 0, NULL);
    if (f) fclose(f);
    return first;
}

static void test_rlc_train(int ppo) {
    const char *name = ppo ? "ppo" : "grpo";
    if (access(bin(), X_OK) != 0) {
        printf("rlc train on 2 ranks: skipped (no %s)\n", bin());
        return;
    }
    char exp[1024];
    snprintf(exp, sizeof exp, "scripts/experiments/stories_grpo.lua");
    char base[] = "/tmp/rlc_test_dp_XXXXXX", one[1100], two[1100];
    if (!mkdtemp(base)) return;
    snprintf(one, sizeof one, "%s/one", base);
    snprintf(two, sizeof two, "%s/two", base);
    int rc = wait_exit(start_train(exp, one, 0, 1, 0, ppo), 120);
    CHECK_MSG(rc == 0, "rlc train (%s) on 1 rank exited %d (%s.rank0.log)", name, rc, one);
    int port = 0;
    CHECK_OK(dist_find_free_port(&port));
    pid_t p0 = start_train(exp, two, 0, 2, port - 1, ppo), p1 = start_train(exp, two, 1, 2, port - 1, ppo);
    int rc0 = wait_exit(p0, 120), rc1 = wait_exit(p1, 30);
    CHECK_MSG(rc0 == 0 && rc1 == 0, "rlc train (%s) on 2 ranks: rank 0 exited %d, rank 1 %d (%s.rank*.log)", name,
              rc0, rc1, two);
    int n1 = 0, n2 = 0;
    json_t *a = first_metrics(one, &n1), *b = first_metrics(two, &n2);
    CHECK_MSG(n1 == 2 && n2 == 2, "%s metric lines: %d on 1 rank, %d on 2 ranks", name, n1, n2);
    if (a && b) {
        // PPO: the critic's (the first step's values are 0: a zero head; the rest is the sharded critic)
        static const char *keys[] = {"reward_mean", "trained_trajectories", "train_tokens", "tokens", "loss",
                                     "pg_loss", "grad_norm", "entropy", "clipfrac", "vf_loss", "vf_clipfrac",
                                     "values_mean", "returns_mean", "vf_explained_var", "critic_grad_norm"};
        size_t nk = sizeof keys / sizeof *keys - (ppo ? 0 : 6);
        for (size_t k = 0; k < nk; k++) {
            double x = json_number_value(json_object_get(a, keys[k])), y = json_number_value(json_object_get(b, keys[k]));
            if (json_is_integer(json_object_get(a, keys[k]))) x = (double)json_integer_value(json_object_get(a, keys[k]));
            if (json_is_integer(json_object_get(b, keys[k]))) y = (double)json_integer_value(json_object_get(b, keys[k]));
            CHECK_MSG((k < 9 || json_object_get(a, keys[k])) && fabs(x - y) <= 1e-4 * fabs(x) + 1e-7,
                      "%s: first step's %s: %.9g on 1 rank, %.9g on 2", name, keys[k], x, y);
        }
        if (ppo)
            printf("rlc train (ppo) on 2 ranks: first step vf_loss %.9g (1 rank %.9g), critic grad norm %.9g (1 rank "
                   "%.9g)\n", json_number_value(json_object_get(b, "vf_loss")),
                   json_number_value(json_object_get(a, "vf_loss")),
                   json_number_value(json_object_get(b, "critic_grad_norm")),
                   json_number_value(json_object_get(a, "critic_grad_norm")));
        printf("rlc train (%s) on 2 ranks: first step loss %.9g (1 rank %.9g), grad norm %.9g (1 rank %.9g), reward "
               "%.4f\n", name, json_number_value(json_object_get(b, "loss")), json_number_value(json_object_get(a, "loss")),
               json_number_value(json_object_get(b, "grad_norm")), json_number_value(json_object_get(a, "grad_norm")),
               json_number_value(json_object_get(b, "reward_mean")));
    }
    if (a) json_decref(a);
    if (b) json_decref(b);
    if (!test_failures) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "rm -rf %s", base);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", base);
    }
}

int main(void) {
    setenv("OMP_WAIT_POLICY", "passive", 0);  // ranks share 2 cores: no spinning OpenMP threads
    double t0 = rlc_now();
    test_collectives();
    double t1 = rlc_now();
    test_step_ranks(0);
    double t2 = rlc_now();
    test_step_ranks(1);
    double t3 = rlc_now();
    // the experiment's relative paths (data, reward) are from the repository root
    if (chdir(getenv("RLC_SOURCE") ? getenv("RLC_SOURCE") : ".") == 0) {
        test_rlc_train(0);
        test_rlc_train(1);
    }
    printf("collectives %.1f s, grpo steps %.1f s, ppo steps %.1f s, rlc train %.1f s\n", t1 - t0, t2 - t1,
           t3 - t2, rlc_now() - t3);
    (void)seq_probs;  // tiny_policy.h's, unused here
    return test_finish("test_dp");
}

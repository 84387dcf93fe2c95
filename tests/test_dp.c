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
//       the same bits on every rank of a group;
//   (c) `rlc train` of the stories experiment (tests/test_rl.c's) as 2 ranks
//       (RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT, as torchrun sets
//       them) completes, both processes exit 0, and the first step's
//       metrics equal the 1-rank run's (loss to 1e-5; the rollouts are the
//       same: seeded per prompt, from the same weights).
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
#include "learner/grpo.h" // grpo_trainer

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

// One rank: two steps; writes the two losses and the weights to fd.
static int step_rank(int rank, int world, int port, int fd) {
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
    grpo_trainer *t = NULL;
    lrn_dp *dp = NULL;
    dist_env e = env_of(rank, world, port - 1);
    lrn_dp_config dc = {.timeout_ms = 30000, .chunk = 777};
    rlc_status s = m ? grpo_trainer_create(m, NULL, &c, 0, &t) : RLC_ERR_NOMEM;
    if (s == RLC_OK) s = lrn_dp_create(&e, &dc, &dp);
    if (s == RLC_OK) s = grpo_trainer_set_dp(t, dp);
    double out[2] = {0, 0};
    for (int k = 0; k < 2 && s == RLC_OK; k++) {
        grpo_stats st;
        s = grpo_step(t, d.groups, NG, k, &st);
        out[k] = st.loss;
        if (s == RLC_OK && !st.updated) s = rlc_errorf(RLC_ERR_STATE, "step %d did not update", k);
    }
    if (s != RLC_OK) fprintf(stderr, "rank %d of %d: %s\n", rank, world, rlc_last_error());
    actor_params *p = m ? actor_model_params(m) : NULL;
    size_t n = p ? p->numel : 0;
    int ok = s == RLC_OK && write(fd, out, sizeof out) == sizeof out && write(fd, &n, sizeof n) == sizeof n;
    for (size_t at = 0; ok && at < n * sizeof(float);) {
        ssize_t w = write(fd, (const char *)p->data + at, n * sizeof(float) - at);
        if (w <= 0) ok = 0;
        else at += (size_t)w;
    }
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

// Runs `world` ranks as processes; fills loss[2] and w (numel) of each rank.
static int run_world(int world, double loss[][2], float **w, size_t *numel) {
    int port = 0;
    CHECK_OK(dist_find_free_port(&port));
    int fds[3];
    pid_t pid[3];
    for (int r = 0; r < world; r++) {
        int pf[2];
        if (pipe(pf) != 0) return 0;
        fflush(NULL);
        pid[r] = fork();
        if (pid[r] == 0) {
            close(pf[0]);
            _exit(step_rank(r, world, port, pf[1]));
        }
        close(pf[1]);
        fds[r] = pf[0];
    }
    int ok = 1;
    for (int r = 0; r < world; r++) {
        ok &= read_all(fds[r], loss[r], sizeof loss[r]) && read_all(fds[r], numel, sizeof *numel);
        if (ok) {
            w[r] = malloc(*numel * sizeof(float));
            ok &= w[r] && read_all(fds[r], w[r], *numel * sizeof(float));
        }
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

static void test_grpo_ranks(void) {
    double loss1[1][2];
    float *w1[1] = {NULL};
    size_t n = 0;
    if (!run_world(1, loss1, w1, &n)) return;
    actor_model *m0 = tiny_model(5);  // the weights before the steps
    double moved = 0;
    for (size_t i = 0; m0 && i < n; i++) moved = fmax(moved, fabs(w1[0][i] - actor_model_params(m0)->data[i]));
    actor_model_free(m0);
    CHECK_MSG(moved > 1e-4, "the steps moved the weights by %g only", moved);
    for (int world = 2; world <= 3; world++) {
        double loss[3][2];
        float *w[3] = {NULL, NULL, NULL};
        size_t nw = 0;
        if (run_world(world, loss, w, &nw) && nw == n) {
            double worst = 0;
            size_t at = 0;
            for (size_t i = 0; i < n; i++) {
                double e = fabs((double)w[0][i] - w1[0][i]) / fmax(1.0, fabs((double)w1[0][i]));
                if (e > worst) worst = e, at = i;
            }
            CHECK_MSG(worst <= 1e-6, "world %d: weight %zu differs by %g (relative) from one rank's", world, at, worst);
            for (int k = 0; k < 2; k++)
                CHECK_MSG(fabs(loss[0][k] - loss1[0][k]) <= 1e-6 * fmax(1.0, fabs(loss1[0][k])),
                          "world %d step %d: loss %.9g, one rank %.9g", world, k, loss[0][k], loss1[0][k]);
            for (int r = 1; r < world; r++)
                CHECK_MSG(memcmp(w[r], w[0], n * sizeof(float)) == 0 && loss[r][1] == loss[0][1],
                          "world %d: rank %d holds other weights or loss than rank 0", world, r);
            printf("grpo on %d ranks: max relative weight difference %.3g, losses %.9f %.9f (one rank %.9f %.9f)\n",
                   world, worst, loss[0][0], loss[0][1], loss1[0][0], loss1[0][1]);
        }
        for (int r = 0; r < world; r++) free(w[r]);
    }
    free(w1[0]);
}

// ---- (c) rlc train on 2 ranks ------------------------------------------------------

static const char *bin(void) { return getenv("RLC_BIN") ? getenv("RLC_BIN") : "./rlc"; }

// `rlc train` of the experiment into dir as rank `rank` of `world` (world 1:
// no launcher variables); stderr to dir.rankN.log.
static pid_t start_train(const char *exp, const char *dir, int rank, int world, int port) {
    char out[1200], log[1200];
    snprintf(out, sizeof out, "output.dir=%s", dir);
    snprintf(log, sizeof log, "%s.rank%d.log", dir, rank);
    char *args[] = {(char *)bin(), "train", (char *)exp, "--set", out, "--set", "algorithm.steps=2",
                    "--set", "algorithm.batch_prompts=4", "--set", "algorithm.group_size=4",
                    "--set", "sampling.max_new_tokens=32", "--quiet", NULL};
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

static void test_rlc_train(void) {
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
    int rc = wait_exit(start_train(exp, one, 0, 1, 0), 120);
    CHECK_MSG(rc == 0, "rlc train on 1 rank exited %d (%s.rank0.log)", rc, one);
    int port = 0;
    CHECK_OK(dist_find_free_port(&port));
    pid_t p0 = start_train(exp, two, 0, 2, port - 1), p1 = start_train(exp, two, 1, 2, port - 1);
    int rc0 = wait_exit(p0, 120), rc1 = wait_exit(p1, 30);
    CHECK_MSG(rc0 == 0 && rc1 == 0, "rlc train on 2 ranks: rank 0 exited %d, rank 1 %d (%s.rank*.log)", rc0, rc1, two);
    int n1 = 0, n2 = 0;
    json_t *a = first_metrics(one, &n1), *b = first_metrics(two, &n2);
    CHECK_MSG(n1 == 2 && n2 == 2, "metric lines: %d on 1 rank, %d on 2 ranks", n1, n2);
    if (a && b) {
        static const char *keys[] = {"reward_mean", "trained_trajectories", "train_tokens", "tokens", "loss",
                                     "pg_loss", "grad_norm", "entropy", "clipfrac"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            double x = json_number_value(json_object_get(a, keys[k])), y = json_number_value(json_object_get(b, keys[k]));
            if (json_is_integer(json_object_get(a, keys[k]))) x = (double)json_integer_value(json_object_get(a, keys[k]));
            if (json_is_integer(json_object_get(b, keys[k]))) y = (double)json_integer_value(json_object_get(b, keys[k]));
            CHECK_MSG(fabs(x - y) <= 1e-4 * fabs(x) + 1e-7, "first step's %s: %.9g on 1 rank, %.9g on 2", keys[k], x, y);
        }
        printf("rlc train on 2 ranks: first step loss %.9g (1 rank %.9g), grad norm %.9g (1 rank %.9g), reward %.4f\n",
               json_number_value(json_object_get(b, "loss")), json_number_value(json_object_get(a, "loss")),
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
    test_grpo_ranks();
    double t2 = rlc_now();
    // the experiment's relative paths (data, reward) are from the repository root
    if (chdir(getenv("RLC_SOURCE") ? getenv("RLC_SOURCE") : ".") == 0) test_rlc_train();
    printf("collectives %.1f s, grpo steps %.1f s, rlc train %.1f s\n", t1 - t0, t2 - t1, rlc_now() - t2);
    (void)seq_probs;  // tiny_policy.h's, unused here
    return test_finish("test_dp");
}

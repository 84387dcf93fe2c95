// cmd_train.c: `rlc train` (the learner plus rollout worker threads in one
// process), `rlc learner` (the learner alone, bound to an endpoint) and
// `rlc rollout` (one worker process connecting to a learner).
#include <signal.h>  // sigaction
#include <stdio.h>   // fprintf
#include <string.h>  // strcmp

#include "args.h"
#include "commands.h"
#include "core/core.h"
#include "core/dist.h"         // dist_env_read
#include "kernels/kernels.h"  // kernels_set_threads
#include "learner/rl.h"        // rl_run
#include "rollout/launch.h"    // rollout_pool_start, rollout_serve

#define TRAIN_MAX_SETS 64

static volatile sig_atomic_t stop_flag = 0;

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

static void catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

typedef struct {
    const char *exp, *endpoint, *worker_id, *device;
    const char *sets[TRAIN_MAX_SETS];
    int n_sets, resume, quiet;
    long long stop_after, threads;
} train_args;

static int parse(const char *cmd, int argc, char **argv, train_args *a, const char *usage) {
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        int bad = 0;
        const char *v;
        if (arg_flag(argv, &i, "--help") || arg_flag(argv, &i, "-h")) {
            printf("%s", usage);
            return 1;
        } else if (arg_str(argc, argv, &i, "--set", &v, &bad)) {
            if (!bad && a->n_sets == TRAIN_MAX_SETS) {
                fprintf(stderr, "rlc %s: at most %d --set\n", cmd, TRAIN_MAX_SETS);
                return 2;
            }
            if (!bad) a->sets[a->n_sets++] = v;
        } else if (arg_str(argc, argv, &i, "--bind", &a->endpoint, &bad)) {
        } else if (arg_str(argc, argv, &i, "--connect", &a->endpoint, &bad)) {
        } else if (arg_str(argc, argv, &i, "--id", &a->worker_id, &bad)) {
        } else if (arg_str(argc, argv, &i, "--device", &a->device, &bad)) {
        } else if (arg_int(argc, argv, &i, "--stop-after", &a->stop_after, &bad)) {
        } else if (arg_int(argc, argv, &i, "--threads", &a->threads, &bad)) {
        } else if (arg_flag(argv, &i, "--resume")) {
            a->resume = 1;
        } else if (arg_flag(argv, &i, "--quiet")) {
            a->quiet = 1;
        } else if (argv[i][0] != '-' && !a->exp) {
            a->exp = argv[i];
        } else {
            fprintf(stderr, "rlc %s: unknown option '%s' (rlc %s --help)\n", cmd, argv[i], cmd);
            return 2;
        }
        if (bad) return 2;
    }
    if (!a->exp) {
        fprintf(stderr, "rlc %s: the experiment file is required (rlc %s --help)\n", cmd, cmd);
        return 2;
    }
    if (a->threads > 0) kernels_set_threads((int)a->threads);
    return 0;
}

static rlc_status spawn_pool(void *ud, const rlc_exp *exp, const char *endpoint, void *zctx, rlc_board *board) {
    return rollout_pool_start(exp, endpoint, zctx, board, (rollout_pool **)ud);
}

static void join_pool(void *ud) {
    rollout_pool **p = ud;
    rollout_pool_join(*p);
    *p = NULL;
}

static int run_learner(const char *cmd, int argc, char **argv, int local) {
    static const char *usage_train =
        "usage: rlc train EXP.lua [--set key=value ...] [--resume] [--stop-after N] [--threads N] [--quiet]\n\n"
        "Reinforcement learning in one process: the learner and rollout.workers worker threads\n"
        "over inproc sockets; weights reach the workers through an in-process board. Each step\n"
        "appends a line to OUTPUT/metrics.jsonl (rlc report OUTPUT draws them); checkpoints go to\n"
        "OUTPUT/checkpoints. Ctrl-C saves a checkpoint and stops. docs/rl.md has the details.\n";
    static const char *usage_learner =
        "usage: rlc learner EXP.lua --bind tcp://*:PORT [--set key=value ...] [--resume] [--stop-after N]\n\n"
        "The learner alone: rollout workers connect with rlc rollout EXP.lua --connect tcp://HOST:PORT.\n"
        "Weights go to them as checksummed chunks over ZeroMQ.\n\n"
        "Data-parallel ranks: started by torchrun, mpirun or srun (or with RANK, WORLD_SIZE,\n"
        "MASTER_ADDR, MASTER_PORT set by hand), rank 0 is the learner the workers connect to and\n"
        "the other ranks train on their share of every step (MASTER_PORT and MASTER_PORT + 1 are\n"
        "used on rank 0's host). docs/rl.md, \"Data-parallel learner ranks\".\n";
    train_args a;
    int rc = parse(cmd, argc, argv, &a, local ? usage_train : usage_learner);
    if (rc) return rc == 1 ? 0 : rc;
    if (!local && !a.endpoint) {
        fprintf(stderr, "rlc learner: --bind tcp://*:PORT is required\n");
        return 2;
    }
    dist_env env;  // data-parallel learner ranks from RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT ...
    if (dist_env_read(&env) != RLC_OK) {
        fprintf(stderr, "rlc %s: %s\n", cmd, rlc_last_error());
        return 2;
    }
    catch_signals();
    rollout_pool *pool = NULL;
    rl_options o = {.exp_path = a.exp, .overrides = a.sets, .n_overrides = a.n_sets, .resume = a.resume,
                    .stop_after = a.stop_after, .endpoint = a.endpoint, .stop = &stop_flag, .quiet = a.quiet,
                    .dist = &env};
    if (local) {
        o.spawn = spawn_pool;
        o.join = join_pool;
        o.ud = &pool;
    }
    rlc_status s = rl_run(&o);
    if (s != RLC_OK) {
        fprintf(stderr, "rlc %s: %s\n", cmd, rlc_last_error());
        return 1;
    }
    return 0;
}

int cmd_train(int argc, char **argv) { return run_learner("train", argc, argv, 1); }

int cmd_learner(int argc, char **argv) { return run_learner("learner", argc, argv, 0); }

int cmd_rollout(int argc, char **argv) {
    static const char *usage =
        "usage: rlc rollout EXP.lua --connect tcp://HOST:PORT [--id WORKER_ID] [--device cpu|cuda|cuda:N] [--set key=value ...]\n\n"
        "One rollout worker for a learner started with rlc learner: it loads the experiment's model,\n"
        "tokenizer and rewards, generates and scores, and takes new weights as they are published.\n"
        "--device overrides model.device for this worker.\n";
    train_args a;
    int rc = parse("rollout", argc, argv, &a, usage);
    if (rc) return rc == 1 ? 0 : rc;
    if (!a.endpoint) {
        fprintf(stderr, "rlc rollout: --connect tcp://HOST:PORT is required\n");
        return 2;
    }
    catch_signals();
    rlc_exp *exp;
    rlc_status s = rlc_exp_load(a.exp, a.sets, a.n_sets, &exp);
    if (s == RLC_OK) {
        s = rollout_serve(exp, a.endpoint, a.worker_id, a.device, &stop_flag);
        rlc_exp_free(exp);
    }
    if (s != RLC_OK) {
        fprintf(stderr, "rlc rollout: %s\n", rlc_last_error());
        return 1;
    }
    return 0;
}

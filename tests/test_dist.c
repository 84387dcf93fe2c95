// test_dist.c: the distributed layer without a GPU. dist_env_read_from over a
// fake environment for torchrun, Open MPI, Slurm and none, with every error
// (each must name the variable and its value); then real rendezvous over TCP
// on 127.0.0.1 with a port found free: 4 ranks as forked processes and as
// threads (rank 0 starting last, a stray client sending garbage first) all get
// rank 0's 128-byte blob; a wrong world, a duplicate rank and a wrong blob
// length are rejected by rank 0 naming the peer's rank and every rank fails;
// a missing rank times out with RLC_ERR_LIMIT naming it; a rank without rank 0
// times out; a port already bound fails with RLC_ERR_IO.
#include <pthread.h>   // pthread_create, pthread_join
#include <stdint.h>    // uint8_t
#include <stdio.h>     // snprintf
#include <stdlib.h>    // unsetenv
#include <string.h>    // memcmp, strncmp, strstr
#include <sys/wait.h>  // waitpid
#include <unistd.h>    // fork, usleep, _exit
#include <zmq.h>       // a stray client and a squatter on the port

#include "core/dist.h"
#include "core/fileio.h"  // rlc_now
#include "core/status.h"
#include "tests/test.h"

// ---- the environment ------------------------------------------------------------

// vars: "NAME=VALUE" strings, NULL-terminated.
static const char *fake_lookup(void *ud, const char *name) {
    size_t n = strlen(name);
    for (const char **v = ud; *v; v++)
        if (strncmp(*v, name, n) == 0 && (*v)[n] == '=') return *v + n + 1;
    return NULL;
}

static dist_env read_ok(const char **vars, int line) {
    dist_env e;
    rlc_status s = dist_env_read_from(&e, fake_lookup, vars);
    CHECK_MSG(s == RLC_OK, "line %d: %s: %s", line, rlc_status_name(s), rlc_last_error());
    return e;
}

// An error of `code` whose message holds `a` and `b` (the variable and its value).
static void read_err(const char **vars, rlc_status code, const char *a, const char *b, int line) {
    dist_env e;
    memset(&e, 0x5a, sizeof e);
    rlc_status s = dist_env_read_from(&e, fake_lookup, vars);
    const char *m = rlc_last_error();
    CHECK_MSG(s == code, "line %d: got %s (%s), expected %s", line, rlc_status_name(s), m, rlc_status_name(code));
    CHECK_MSG(strstr(m, a) && (!b || strstr(m, b)), "line %d: message '%s' does not name '%s' and '%s'", line, m, a,
              b ? b : "");
    CHECK_MSG(e.world == 0 && e.rank == 0, "line %d: env not zeroed on failure", line);
}

static void test_env(void) {
    {  // none set
        const char *v[] = {"PATH=/bin", NULL};
        dist_env e = read_ok(v, __LINE__);
        CHECK(e.rank == 0 && e.world == 1 && e.local_rank == 0 && e.local_world == 1);
        CHECK(e.launcher == DIST_LAUNCHER_NONE && e.master_addr[0] == 0 && e.master_port == 0);
    }
    {  // torchrun, everything
        const char *v[] = {"RANK=5", "WORLD_SIZE=8", "LOCAL_RANK=1", "LOCAL_WORLD_SIZE=4",
                           "MASTER_ADDR=node-0.cluster", "MASTER_PORT=29500", NULL};
        dist_env e = read_ok(v, __LINE__);
        CHECK(e.launcher == DIST_LAUNCHER_TORCHRUN && !strcmp(dist_launcher_name(e.launcher), "torchrun"));
        CHECK(e.rank == 5 && e.world == 8 && e.local_rank == 1 && e.local_world == 4);
        CHECK(!strcmp(e.master_addr, "node-0.cluster") && e.master_port == 29500);
    }
    {  // torchrun without the local variables
        const char *v[] = {"RANK=0", "WORLD_SIZE=2", "MASTER_ADDR=10.0.0.1", "MASTER_PORT=1", NULL};
        dist_env e = read_ok(v, __LINE__);
        CHECK(e.local_rank == -1 && e.local_world == 0 && e.master_port == 1);
    }
    {  // Open MPI (MASTER_ exported by hand), with SLURM_ of mpirun's daemons also set
        const char *v[] = {"OMPI_COMM_WORLD_RANK=3", "OMPI_COMM_WORLD_SIZE=4", "OMPI_COMM_WORLD_LOCAL_RANK=1",
                           "OMPI_COMM_WORLD_LOCAL_SIZE=2", "SLURM_PROCID=0", "SLURM_NTASKS=2",
                           "MASTER_ADDR=::1", "MASTER_PORT=40000", NULL};
        dist_env e = read_ok(v, __LINE__);
        CHECK(e.launcher == DIST_LAUNCHER_OPENMPI && e.rank == 3 && e.world == 4);
        CHECK(e.local_rank == 1 && e.local_world == 2 && !strcmp(e.master_addr, "::1"));
    }
    {  // Slurm with master
        const char *v[] = {"SLURM_PROCID=2", "SLURM_NTASKS=3", "SLURM_LOCALID=0", "MASTER_ADDR=n1",
                           "MASTER_PORT=6000", NULL};
        dist_env e = read_ok(v, __LINE__);
        CHECK(e.launcher == DIST_LAUNCHER_SLURM && e.rank == 2 && e.world == 3 && e.local_rank == 0);
        CHECK(e.local_world == 0 && e.master_port == 6000);
    }
    {  // Slurm with one task needs no master
        const char *v[] = {"SLURM_PROCID=0", "SLURM_NTASKS=1", "SLURM_LOCALID=0", "SLURM_NTASKS_PER_NODE=1", NULL};
        dist_env e = read_ok(v, __LINE__);
        CHECK(e.launcher == DIST_LAUNCHER_SLURM && e.world == 1 && e.local_world == 1);
    }
    {  // torchrun inside a Slurm allocation: torchrun wins
        const char *v[] = {"SLURM_PROCID=0", "SLURM_NTASKS=1", "RANK=1", "WORLD_SIZE=2", "MASTER_ADDR=h",
                           "MASTER_PORT=7", NULL};
        dist_env e = read_ok(v, __LINE__);
        CHECK(e.launcher == DIST_LAUNCHER_TORCHRUN && e.rank == 1 && e.world == 2);
    }
    // errors, each naming the variable and its value
    const char *m[] = {"MASTER_ADDR=h", "MASTER_PORT=9", NULL};
#define ERR(code, a, b, ...)                                        \
    do {                                                            \
        const char *v_[] = {__VA_ARGS__, m[0], m[1], NULL};        \
        read_err(v_, code, a, b, __LINE__);                         \
    } while (0)
    ERR(RLC_ERR_CONFIG, "RANK", "'abc'", "RANK=abc", "WORLD_SIZE=2");
    ERR(RLC_ERR_CONFIG, "RANK", "'-1'", "RANK=-1", "WORLD_SIZE=2");
    ERR(RLC_ERR_CONFIG, "RANK", "''", "RANK=", "WORLD_SIZE=2");
    ERR(RLC_ERR_CONFIG, "RANK", "' 1'", "RANK= 1", "WORLD_SIZE=2");
    ERR(RLC_ERR_CONFIG, "RANK=99999999999999999999", "range", "RANK=99999999999999999999", "WORLD_SIZE=2");
    ERR(RLC_ERR_CONFIG, "RANK=4", "WORLD_SIZE=4", "RANK=4", "WORLD_SIZE=4");
    ERR(RLC_ERR_CONFIG, "WORLD_SIZE=0", "range", "RANK=0", "WORLD_SIZE=0");
    ERR(RLC_ERR_CONFIG, "WORLD_SIZE", "'2x'", "RANK=0", "WORLD_SIZE=2x");
    ERR(RLC_ERR_CONFIG, "WORLD_SIZE is not", "RANK", "RANK=0");
    ERR(RLC_ERR_CONFIG, "LOCAL_RANK=2", "LOCAL_WORLD_SIZE=2", "RANK=0", "WORLD_SIZE=4", "LOCAL_RANK=2",
        "LOCAL_WORLD_SIZE=2");
    ERR(RLC_ERR_CONFIG, "LOCAL_WORLD_SIZE=8", "range", "RANK=0", "WORLD_SIZE=4", "LOCAL_WORLD_SIZE=8");
    ERR(RLC_ERR_CONFIG, "LOCAL_RANK", "'x'", "RANK=0", "WORLD_SIZE=4", "LOCAL_RANK=x");
    ERR(RLC_ERR_CONFIG, "OMPI_COMM_WORLD_RANK=2", "OMPI_COMM_WORLD_SIZE=2", "OMPI_COMM_WORLD_RANK=2",
        "OMPI_COMM_WORLD_SIZE=2");
    ERR(RLC_ERR_CONFIG, "OMPI_COMM_WORLD_SIZE is not", "openmpi", "OMPI_COMM_WORLD_RANK=0");
    ERR(RLC_ERR_CONFIG, "SLURM_NTASKS", "'two'", "SLURM_PROCID=0", "SLURM_NTASKS=two");
    ERR(RLC_ERR_CONFIG, "SLURM_LOCALID", "'1.5'", "SLURM_PROCID=0", "SLURM_NTASKS=2", "SLURM_LOCALID=1.5");
    ERR(RLC_ERR_CONFIG, "SLURM_PROCID=3", "SLURM_NTASKS=3", "SLURM_PROCID=3", "SLURM_NTASKS=3");
    ERR(RLC_ERR_CONFIG, "MASTER_PORT=70000", "range", "MASTER_PORT=70000");  // found before the default one
    ERR(RLC_ERR_CONFIG, "MASTER_PORT", "'29500a'", "MASTER_PORT=29500a");
    ERR(RLC_ERR_CONFIG, "MASTER_PORT=0", "range", "MASTER_PORT=0");
    ERR(RLC_ERR_CONFIG, "MASTER_ADDR", "'tcp://h'", "MASTER_ADDR=tcp://h");
#undef ERR
    {  // world > 1 without a master
        const char *v1[] = {"RANK=0", "WORLD_SIZE=2", "MASTER_PORT=9", NULL};
        read_err(v1, RLC_ERR_CONFIG, "MASTER_ADDR is not set", "world is 2", __LINE__);
        const char *v2[] = {"SLURM_PROCID=1", "SLURM_NTASKS=2", "MASTER_ADDR=", "MASTER_PORT=9", NULL};
        read_err(v2, RLC_ERR_CONFIG, "MASTER_ADDR is empty", "slurm", __LINE__);
        const char *v3[] = {"OMPI_COMM_WORLD_RANK=1", "OMPI_COMM_WORLD_SIZE=2", "MASTER_ADDR=h", NULL};
        read_err(v3, RLC_ERR_CONFIG, "MASTER_PORT is not set", "openmpi", __LINE__);
        char longaddr[DIST_ADDR_MAX + 20] = "MASTER_ADDR=";
        memset(longaddr + 12, 'a', DIST_ADDR_MAX);
        const char *v4[] = {"RANK=0", "WORLD_SIZE=2", longaddr, "MASTER_PORT=9", NULL};
        read_err(v4, RLC_ERR_CONFIG, "MASTER_ADDR", "longer than", __LINE__);
    }
    {  // the real environment, with every launcher variable removed
        const char *names[] = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "OMPI_COMM_WORLD_RANK",
                               "SLURM_PROCID", "MASTER_ADDR", "MASTER_PORT"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unsetenv(names[i]);
        dist_env e;
        CHECK_OK(dist_env_read(&e));
        CHECK(e.rank == 0 && e.world == 1 && e.launcher == DIST_LAUNCHER_NONE);
        setenv("RANK", "1", 1), setenv("WORLD_SIZE", "3", 1), setenv("MASTER_ADDR", "127.0.0.1", 1);
        setenv("MASTER_PORT", "1234", 1);
        CHECK_OK(dist_env_read(&e));
        CHECK(e.rank == 1 && e.world == 3 && e.master_port == 1234 && e.launcher == DIST_LAUNCHER_TORCHRUN);
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unsetenv(names[i]);
    }
}

// ---- rendezvous ------------------------------------------------------------------

enum { BLOB = 128, MAX_RANKS = 8 };

typedef struct {
    dist_env e;
    uint8_t blob[BLOB];
    size_t len;
    int timeout_ms;
    double delay_s;  // sleep this long before joining
    rlc_status s;
    char err[1200];
} rank_run;

static void fill_blob(uint8_t *b, int rank) {
    for (int i = 0; i < BLOB; i++) b[i] = rank == 0 ? (uint8_t)(i * 37 + 11) : 0xee;
}

static dist_env env_at(int rank, int world, int port) {
    dist_env e = dist_env_single();
    e.rank = rank, e.world = world, e.local_rank = rank, e.local_world = world, e.master_port = port;
    snprintf(e.master_addr, sizeof e.master_addr, "127.0.0.1");
    return e;
}

static int free_port(void) {
    int port = 0;
    CHECK_OK(dist_find_free_port(&port));
    return port;
}

static void *rank_main(void *arg) {
    rank_run *r = arg;
    if (r->delay_s > 0) usleep((useconds_t)(r->delay_s * 1e6));
    r->s = dist_rendezvous(&r->e, r->blob, r->len, r->timeout_ms);
    snprintf(r->err, sizeof r->err, "%s", r->s == RLC_OK ? "" : rlc_last_error());
    return NULL;
}

// n ranks as threads; default: ranks 0..n-1 of world n, 128 bytes, 5 s.
static void setup(rank_run *r, int n, int port) {
    for (int k = 0; k < n; k++) {
        memset(&r[k], 0, sizeof r[k]);
        r[k].e = env_at(k, n, port);
        r[k].len = BLOB;
        r[k].timeout_ms = 5000;
        fill_blob(r[k].blob, k);
    }
}

static double run_threads(rank_run *r, int n) {
    pthread_t th[MAX_RANKS];
    double t0 = rlc_now();
    for (int k = 0; k < n; k++) pthread_create(&th[k], NULL, rank_main, &r[k]);
    for (int k = 0; k < n; k++) pthread_join(th[k], NULL);
    return rlc_now() - t0;
}

static void expect(const rank_run *r, rlc_status code, const char *a, const char *b, const char *what) {
    CHECK_MSG(r->s == code, "%s: rank %d got %s (%s), expected %s", what, r->e.rank, rlc_status_name(r->s), r->err,
              rlc_status_name(code));
    CHECK_MSG((!a || strstr(r->err, a)) && (!b || strstr(r->err, b)), "%s: rank %d: '%s' does not say '%s' and '%s'",
              what, r->e.rank, r->err, a ? a : "", b ? b : "");
}

static void check_blobs(const rank_run *r, int n, const char *what) {
    uint8_t want[BLOB];
    fill_blob(want, 0);
    for (int k = 0; k < n; k++) {
        CHECK_MSG(r[k].s == RLC_OK, "%s: rank %d: %s: %s", what, k, rlc_status_name(r[k].s), r[k].err);
        CHECK_MSG(memcmp(r[k].blob, want, BLOB) == 0, "%s: rank %d has the wrong blob", what, k);
    }
}

// 4 ranks as processes: each child exits 0 when it holds rank 0's blob.
static void test_fork(void) {
    int port = free_port(), n = 4;
    pid_t pid[4];
    for (int k = 0; k < n; k++) {
        pid[k] = fork();
        if (pid[k] == 0) {
            rank_run r;
            memset(&r, 0, sizeof r);
            r.e = env_at(k, n, port), r.len = BLOB, r.timeout_ms = 5000;
            fill_blob(r.blob, k);
            rank_main(&r);
            uint8_t want[BLOB];
            fill_blob(want, 0);
            if (r.s != RLC_OK) fprintf(stderr, "fork rank %d: %s\n", k, r.err);
            _exit(r.s == RLC_OK && memcmp(r.blob, want, BLOB) == 0 ? 0 : 1);
        }
        CHECK(pid[k] > 0);
    }
    for (int k = 0; k < n; k++) {
        int st = -1;
        if (pid[k] > 0) waitpid(pid[k], &st, 0);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "forked rank %d failed (status %d)", k, st);
    }
}

static void test_threads(void) {
    rank_run r[MAX_RANKS];
    int port = free_port();
    // a stray client that speaks something else first: rank 0 must ignore it
    void *zctx = zmq_ctx_new(), *stray = zmq_socket(zctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(stray, ZMQ_LINGER, &zero, sizeof zero);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    CHECK(zmq_connect(stray, ep) == 0);
    zmq_send(stray, "GET / HTTP/1.0\r\n\r\n", 18, 0);
    zmq_send(stray, "RLCD", 4, 0);  // the magic alone: too short for a header
    setup(r, 4, port);
    r[0].delay_s = 0.3;  // the others connect before rank 0 binds
    double t = run_threads(r, 4);
    check_blobs(r, 4, "4 threads");
    CHECK_MSG(t < 3, "4 threads took %.2f s", t);
    zmq_close(stray);
    zmq_ctx_term(zctx);

    // world 2, then world 1 (no sockets), and a zero-length blob
    setup(r, 2, free_port());
    r[0].len = r[1].len = 0;
    run_threads(r, 2);
    CHECK_MSG(r[0].s == RLC_OK && r[1].s == RLC_OK, "empty blob: %s / %s", r[0].err, r[1].err);
    setup(r, 1, 0);
    CHECK_OK(dist_rendezvous(&r[0].e, r[0].blob, BLOB, 0));
}

static void test_rejects(void) {
    rank_run r[MAX_RANKS];
    // rank 3 says world 5 (and arrives last, so rank 0 has heard from 1 and 2)
    setup(r, 4, free_port());
    r[3].e.world = 5;
    r[3].delay_s = 0.3;
    double t = run_threads(r, 4);
    expect(&r[0], RLC_ERR_CONFIG, "rank 3 says world is 5", "rank 0 has 4", "wrong world");
    expect(&r[3], RLC_ERR_CONFIG, "rejected rank 3", "rank 3 says world is 5", "wrong world");
    for (int k = 1; k <= 2; k++) expect(&r[k], RLC_ERR_CONFIG, "rejected", "rank 3 says world is 5", "wrong world");
    for (int k = 1; k < 4; k++) CHECK_MSG(r[k].blob[0] == 0xee, "wrong world: rank %d's blob changed", k);
    CHECK_MSG(t < 3, "wrong world took %.2f s", t);

    // two rank 2s
    setup(r, 4, free_port());
    r[3].e.rank = 2;
    r[3].delay_s = 0.3;
    run_threads(r, 4);
    expect(&r[0], RLC_ERR_CONFIG, "two peers say they are rank 2", NULL, "duplicate");
    expect(&r[3], RLC_ERR_CONFIG, "rejected rank 2", "two peers", "duplicate");

    // rank 2 expects 64 bytes
    setup(r, 3, free_port());
    r[2].len = 64;
    r[2].delay_s = 0.3;
    run_threads(r, 3);
    expect(&r[0], RLC_ERR_CONFIG, "rank 2 expects a blob of 64 bytes", "rank 0 has 128", "length");
    expect(&r[1], RLC_ERR_CONFIG, "rejected rank 1", "rank 2 expects", "length");

    // rank 5 in a world of 4
    setup(r, 4, free_port());
    r[3].e.rank = 5, r[3].e.world = 8;  // valid for itself, out of range for rank 0
    r[3].delay_s = 0.3;
    run_threads(r, 4);
    expect(&r[0], RLC_ERR_CONFIG, "rank 5, not in 1..3", NULL, "out of range");
}

static void test_timeouts(void) {
    rank_run r[MAX_RANKS];
    // rank 3 never comes
    setup(r, 4, free_port());
    r[0].timeout_ms = 500;  // the others wait longer, so that rank 0's REJECT reaches them
    r[1].timeout_ms = r[2].timeout_ms = 3000;
    double t = run_threads(r, 3);
    expect(&r[0], RLC_ERR_LIMIT, "never heard from rank: 3", "500 ms", "missing rank");
    for (int k = 1; k < 3; k++) expect(&r[k], RLC_ERR_CONFIG, "rejected", "never heard from rank: 3", "missing rank");
    CHECK_MSG(t < 2.5, "missing rank took %.2f s", t);

    // ranks 1 and 3 never come
    setup(r, 4, free_port());
    r[0].timeout_ms = 300;
    r[1] = r[2];  // run ranks 0 and 2
    run_threads(r, 2);
    expect(&r[0], RLC_ERR_LIMIT, "never heard from rank: 1, 3", NULL, "missing ranks");
    expect(&r[1], RLC_ERR_CONFIG, "rejected rank 2", "never heard from rank: 1, 3", "missing ranks");

    // rank 1 without rank 0
    setup(r, 2, free_port());
    r[1].timeout_ms = 300;
    t = run_threads(r + 1, 1);
    expect(&r[1], RLC_ERR_LIMIT, "rank 1 had no answer from rank 0", "tcp://127.0.0.1:", "no rank 0");
    CHECK_MSG(r[1].blob[0] == 0xee, "no rank 0: the blob changed");
    CHECK_MSG(t < 1.5, "no rank 0 took %.2f s", t);

    // the port is taken: rank 0 cannot bind
    int port = free_port();
    void *zctx = zmq_ctx_new(), *squat = zmq_socket(zctx, ZMQ_ROUTER);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://*:%d", port);
    CHECK(zmq_bind(squat, ep) == 0);
    setup(r, 2, port);
    r[0].timeout_ms = 300;
    run_threads(r, 1);
    expect(&r[0], RLC_ERR_IO, "bind", ep, "port taken");
    zmq_close(squat);
    zmq_ctx_term(zctx);

    // bad arguments
    setup(r, 2, 0);
    CHECK(dist_rendezvous(&r[0].e, r[0].blob, BLOB, 100) == RLC_ERR_ARG);
    r[0].e.rank = 2;
    CHECK(dist_rendezvous(&r[0].e, r[0].blob, BLOB, 100) == RLC_ERR_ARG);
}

int main(void) {
    double t0 = rlc_now();
    test_env();
    test_fork();
    test_threads();
    test_rejects();
    test_timeouts();
    printf("test_dist: %.2f s\n", rlc_now() - t0);
    return test_finish("test_dist");
}

// test_cuda_nccl.c: NCCL through kc_nccl.h with one forked process per visible
// device (world = device count, 1 included), ranks set up as a launcher would
// (dist_env filled by hand, rendezvous on 127.0.0.1 at a free port). Every
// rank checks: all-reduce sum and mean in float32 and bfloat16 of known
// values (exact sums of small integers), broadcast from rank 0 and from the
// last rank, and a bad root refused. Skipped (exit 77) without the CUDA
// backend, without NCCL in the build, or without a device. The parent never
// touches CUDA (a CUDA context does not survive fork): a child probes the
// devices first.
#include <signal.h>    // kill, SIGKILL
#include <stdint.h>    // uint8_t
#include <stdio.h>     // printf
#include <stdlib.h>    // malloc, free
#include <string.h>    // memset, memcmp
#include <sys/wait.h>  // waitpid
#include <unistd.h>    // fork, pipe, _exit

#include "core/dist.h"
#include "core/fileio.h"  // rlc_now
#include "core/status.h"
#include "tests/test.h"
#ifdef RLC_HAVE_CUDA
#include "kernels/cuda/kcuda.h"
#endif
#ifdef RLC_HAVE_NCCL
#include "kernels/cuda/kc_nccl.h"
#endif

#if defined(RLC_HAVE_CUDA) && defined(RLC_HAVE_NCCL)

enum { N = (1 << 20) + 3, BCAST = (3 << 20) + 5 };

typedef struct {
    int n_devices;
    char why[400];
} probe_result;

// In a child: kc_open(0) and the device count, sent back over a pipe.
static probe_result probe_devices(void) {
    probe_result p = {0, "the probe process failed"};
    int fd[2];
    if (pipe(fd) != 0) return p;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        probe_result q = {0, ""};
        kc_ctx *c = NULL;
        rlc_status s = kc_open(0, &c);
        char info[4096];
        if (s == RLC_OK) s = kernels_cuda_query(&q.n_devices, info, sizeof info);
        if (s != RLC_OK) snprintf(q.why, sizeof q.why, "%s", rlc_last_error());
        kc_close(c);
        ssize_t w = write(fd[1], &q, sizeof q);
        _exit(w == (ssize_t)sizeof q ? 0 : 1);
    }
    close(fd[1]);
    if (pid > 0 && read(fd[0], &p, sizeof p) != (ssize_t)sizeof p) p.n_devices = 0;
    close(fd[0]);
    if (pid > 0) waitpid(pid, NULL, 0);
    return p;
}

// Checks got against want (n floats); prints the worst element.
static void check_close(const float *got, const float *want, size_t n, double atol, double rtol, const char *what,
                        int rank) {
    size_t worst = 0, bad = 0;
    double worst_err = -1;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        if (!(err <= atol + rtol * fabs(want[i]))) bad++;
        if (!(err <= worst_err)) worst_err = err, worst = i;
    }
    CHECK_MSG(bad == 0, "rank %d %s: %zu of %zu elements off; worst [%zu] = %g, want %g (abs err %g)", rank, what,
              bad, n, worst, got[worst], want[worst], worst_err);
}

// rank r's element i: a small integer, so that the sum is exact in either dtype.
static float value(size_t i, int r) { return (float)(i % 7) + (float)r; }

static void test_allreduce(kc_comm *m, kc_ctx *c, int rank, int world, kc_dtype dt, int average) {
    size_t es = kc_dtype_size(dt);
    float *h = malloc(N * sizeof(float)), *want = malloc(N * sizeof(float));
    void *hb = malloc(N * es), *d = NULL;
    for (size_t i = 0; i < N; i++) {
        float x = value(i, rank);
        if (dt == KC_BF16) ((kc_bf16 *)hb)[i] = kc_f32_to_bf16(x);
        else ((float *)hb)[i] = x;
        double sum = world * (double)(i % 7) + world * (world - 1) / 2.0;
        want[i] = (float)(average ? sum / world : sum);
    }
    char what[64];
    snprintf(what, sizeof what, "all-reduce %s %s", average ? "mean" : "sum", kc_dtype_name(dt));
    CHECK_OK(kc_malloc(c, &d, N * es));
    CHECK_OK(kc_upload(c, d, hb, N * es));
    CHECK_OK(kc_allreduce(m, c, d, N, dt, average));
    CHECK_OK(kc_sync(c));
    CHECK_OK(kc_download(c, hb, d, N * es));
    for (size_t i = 0; i < N; i++) h[i] = dt == KC_BF16 ? kc_bf16_to_f32(((kc_bf16 *)hb)[i]) : ((float *)hb)[i];
    // sums of integers are exact; a mean is scaled by 1/world in the dtype first
    double rtol = !average ? 0 : dt == KC_BF16 ? 1.0 / 64 : 1e-5;
    check_close(h, want, N, 0, rtol, what, rank);
    kc_free(c, d);
    free(h), free(want), free(hb);
}

static void test_broadcast(kc_comm *m, kc_ctx *c, int rank, int world, int root) {
    uint8_t *h = malloc(BCAST);
    void *d = NULL;
    for (size_t i = 0; i < BCAST; i++) h[i] = (uint8_t)(i * 13 + rank * 101 + 7);
    CHECK_OK(kc_malloc(c, &d, BCAST));
    CHECK_OK(kc_upload(c, d, h, BCAST));
    CHECK_OK(kc_broadcast(m, c, d, BCAST, root));
    CHECK_OK(kc_sync(c));
    CHECK_OK(kc_download(c, h, d, BCAST));
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < BCAST; i++)
        if (h[i] != (uint8_t)(i * 13 + root * 101 + 7) && bad++ == 0) first = i;
    CHECK_MSG(bad == 0, "rank %d broadcast from %d: %zu of %d bytes differ, first at %zu", rank, root, bad, BCAST,
              first);
    CHECK(kc_broadcast(m, c, d, BCAST, world) == RLC_ERR_ARG);
    kc_free(c, d);
    free(h);
}

static int run_rank(int rank, int world, int port) {
    dist_env e = dist_env_single();
    e.rank = rank, e.world = world, e.local_rank = rank, e.local_world = world, e.master_port = port;
    snprintf(e.master_addr, sizeof e.master_addr, "127.0.0.1");
    kc_ctx *c = NULL;
    kc_comm *m = NULL;
    rlc_status s = kc_open(rank, &c);
    if (s == RLC_OK) s = kc_comm_init(c, &e, 60000, &m);
    CHECK_MSG(s == RLC_OK, "rank %d: %s: %s", rank, rlc_status_name(s), rlc_last_error());
    if (s == RLC_OK) {
        CHECK(kc_comm_rank(m) == rank && kc_comm_world(m) == world);
        for (int avg = 0; avg < 2; avg++) {
            test_allreduce(m, c, rank, world, KC_F32, avg);
            test_allreduce(m, c, rank, world, KC_BF16, avg);
        }
        test_broadcast(m, c, rank, world, 0);
        test_broadcast(m, c, rank, world, world - 1);
    }
    kc_comm_free(m);
    kc_close(c);
    char name[64];
    snprintf(name, sizeof name, "test_cuda_nccl rank %d of %d", rank, world);
    return test_finish(name);
}

int main(void) {
    probe_result p = probe_devices();
    if (p.n_devices <= 0) TEST_SKIP("no CUDA device: %s", p.why[0] ? p.why : "0 devices");
    int world = p.n_devices, port = 0;
    CHECK_OK(dist_find_free_port(&port));
    printf("test_cuda_nccl: %d ranks, one per device, rendezvous on 127.0.0.1:%d\n", world, port);
    fflush(stdout);
    pid_t pid[64];
    if (world > 64) world = 64;
    for (int r = 0; r < world; r++) {
        pid[r] = fork();
        if (pid[r] == 0) _exit(run_rank(r, world, port));
        CHECK(pid[r] > 0);
    }
    // wait for all, at most 5 minutes; a hung rank is killed
    double deadline = rlc_now() + 300;
    int left = world, status[64];
    for (int r = 0; r < world; r++) status[r] = pid[r] > 0 ? -1 : 1;
    while (left > 0) {
        for (int r = 0; r < world; r++) {
            if (status[r] != -1) continue;
            int st;
            if (waitpid(pid[r], &st, WNOHANG) == pid[r]) status[r] = st, left--;
        }
        if (left > 0 && rlc_now() > deadline) {
            for (int r = 0; r < world; r++)
                if (status[r] == -1) {
                    fprintf(stderr, "test_cuda_nccl: rank %d hung; killing it\n", r);
                    kill(pid[r], SIGKILL);
                    waitpid(pid[r], NULL, 0);
                    status[r] = 1 << 8, left--;
                }
        }
        if (left > 0) usleep(10000);
    }
    for (int r = 0; r < world; r++)
        CHECK_MSG(WIFEXITED(status[r]) && WEXITSTATUS(status[r]) == 0, "rank %d failed (status %d)", r, status[r]);
    return test_finish("test_cuda_nccl");
}

#else

int main(void) {
#ifndef RLC_HAVE_CUDA
    TEST_SKIP("this build has no CUDA backend");
#else
    TEST_SKIP("this build has no NCCL (kc_nccl.cu was not compiled)");
#endif
}

#endif

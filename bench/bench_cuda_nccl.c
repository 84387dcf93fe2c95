// bench_cuda_nccl.c: NCCL broadcast and all-reduce (float32 sum) through
// kc_nccl.h over every visible device, one forked process per device, for
// 1 MiB .. 1 GiB buffers. Prints the algorithm bandwidth (bytes / time, the
// figure a caller sees) and the bus bandwidth (all-reduce: x 2(n-1)/n, the
// NCCL-tests convention; broadcast: the same as algbw). With one device the
// collectives are local copies and the figures only show the call overhead.
//
//     bench_cuda_nccl [--max-mib N] [--iters N]
// Without a device (or a build without CUDA/NCCL): prints why it skipped, exits 0.
#include <stdio.h>     // printf
#include <stdlib.h>    // atoi
#include <string.h>    // strcmp
#include <sys/wait.h>  // waitpid
#include <unistd.h>    // fork, pipe, _exit

#include "core/dist.h"
#include "core/fileio.h"  // rlc_now
#include "core/status.h"
#ifdef RLC_HAVE_CUDA
#include "kernels/cuda/kcuda.h"
#endif
#ifdef RLC_HAVE_NCCL
#include "kernels/cuda/kc_nccl.h"
#endif

#if defined(RLC_HAVE_CUDA) && defined(RLC_HAVE_NCCL)

// The device count, asked in a child: the parent must not hold a CUDA context
// when it forks the ranks.
static int count_devices(void) {
    int fd[2], n = 0;
    if (pipe(fd) != 0) return 0;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        kc_ctx *c = NULL;
        char info[4096];
        int k = 0;
        if (kc_open(0, &c) != RLC_OK || kernels_cuda_query(&k, info, sizeof info) != RLC_OK) k = 0;
        kc_close(c);
        _exit(write(fd[1], &k, sizeof k) == (ssize_t)sizeof k ? 0 : 1);
    }
    close(fd[1]);
    if (pid > 0 && read(fd[0], &n, sizeof n) != (ssize_t)sizeof n) n = 0;
    close(fd[0]);
    if (pid > 0) waitpid(pid, NULL, 0);
    return n;
}

// Seconds per call of `op` (0 broadcast, 1 all-reduce) on `bytes`, after a warm-up.
static rlc_status time_op(kc_comm *m, kc_ctx *c, void *buf, size_t bytes, int op, int iters, double *sec) {
    for (int it = -2; it < iters; it++) {  // two warm-up calls
        if (it == 0) {
            RLC_TRY(kc_sync(c));
            RLC_TRY(kc_allreduce(m, c, buf, 1, KC_F32, 0));  // line the ranks up
            RLC_TRY(kc_sync(c));
            *sec = rlc_now();
        }
        if (op == 0) RLC_TRY(kc_broadcast(m, c, buf, bytes, 0));
        else RLC_TRY(kc_allreduce(m, c, buf, bytes / 4, KC_F32, 0));
    }
    RLC_TRY(kc_sync(c));
    *sec = (rlc_now() - *sec) / iters;
    return RLC_OK;
}

static int run_rank(int rank, int world, int port, size_t max_bytes, int iters) {
    dist_env e = dist_env_single();
    e.rank = rank, e.world = world, e.local_rank = rank, e.local_world = world, e.master_port = port;
    snprintf(e.master_addr, sizeof e.master_addr, "127.0.0.1");
    kc_ctx *c = NULL;
    kc_comm *m = NULL;
    void *buf = NULL;
    rlc_status s = kc_open(rank, &c);
    if (s == RLC_OK) s = kc_comm_init(c, &e, 60000, &m);
    if (s == RLC_OK) s = kc_malloc(c, &buf, max_bytes);
    if (s == RLC_OK) s = kc_memset(c, buf, 0, max_bytes);
    if (rank == 0 && s == RLC_OK) {
        printf("bench_cuda_nccl: %d rank(s), one per device\n", world);
        printf("%10s  %14s %14s  %14s %14s\n", "size", "bcast algbw", "busbw", "allred algbw", "busbw");
    }
    for (size_t bytes = 1 << 20; s == RLC_OK && bytes <= max_bytes; bytes *= 4) {
        int n = bytes >= ((size_t)256 << 20) ? (iters + 3) / 4 : iters;
        double tb = 0, ta = 0;
        s = time_op(m, c, buf, bytes, 0, n, &tb);
        if (s == RLC_OK) s = time_op(m, c, buf, bytes, 1, n, &ta);
        if (s != RLC_OK || rank != 0) continue;
        double gb = bytes / 1e9, bus = world > 1 ? 2.0 * (world - 1) / world : 1.0;
        printf("%7zu MiB  %9.2f GB/s %9.2f GB/s  %9.2f GB/s %9.2f GB/s\n", bytes >> 20, gb / tb, gb / tb, gb / ta,
               gb / ta * bus);
        fflush(stdout);
    }
    if (s != RLC_OK) fprintf(stderr, "bench_cuda_nccl rank %d: %s: %s\n", rank, rlc_status_name(s), rlc_last_error());
    if (c) kc_free(c, buf);
    kc_comm_free(m);
    kc_close(c);
    return s == RLC_OK ? 0 : 1;
}

int main(int argc, char **argv) {
    size_t max_mib = 1024;
    int iters = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--max-mib") && i + 1 < argc) max_mib = (size_t)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_cuda_nccl [--max-mib N] [--iters N]\n");
            return 2;
        }
    }
    if (max_mib < 1 || iters < 1) {
        fprintf(stderr, "bench_cuda_nccl: --max-mib and --iters must be at least 1\n");
        return 2;
    }
    int world = count_devices(), port = 0;
    if (world <= 0) {
        printf("bench_cuda_nccl: skipped: no CUDA device\n");
        return 0;
    }
    if (dist_find_free_port(&port) != RLC_OK) {
        fprintf(stderr, "bench_cuda_nccl: %s\n", rlc_last_error());
        return 1;
    }
    fflush(stdout);
    pid_t pid[64];
    if (world > 64) world = 64;
    for (int r = 0; r < world; r++) {
        pid[r] = fork();
        if (pid[r] == 0) _exit(run_rank(r, world, port, max_mib << 20, iters));
    }
    int failed = 0;
    for (int r = 0; r < world; r++) {
        int st = 1;
        if (pid[r] > 0) waitpid(pid[r], &st, 0);
        failed |= !(pid[r] > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    return failed;
}

#else

int main(void) {
#ifndef RLC_HAVE_CUDA
    printf("bench_cuda_nccl: skipped: no CUDA device (this build has no CUDA backend)\n");
#else
    printf("bench_cuda_nccl: skipped: no CUDA device support for NCCL (this build has no NCCL)\n");
#endif
    return 0;
}

#endif

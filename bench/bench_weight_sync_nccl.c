// bench_weight_sync_nccl.c: the NCCL weight-sync path as the learner and a
// rollout worker run it (rollout.weight_sync): rank 0 on cuda:0 broadcasts
// a float32 weight buffer (kc_comm_init_rank, kc_broadcast, kc_comm_wait),
// rank 1 on cuda:1 receives it into a staging buffer and converts it to
// bf16 (kc_convert, the swap into a bf16 model). Two threads, one process.
// Prints, per size, the broadcast's GB/s (bytes / time, as the learner's
// weight_sync_nccl_s sees it) and the swap's time; compare with the ZeroMQ
// chunk path's weight_sync_bytes / weight_sync on the metrics line.
//
//     bench_weight_sync_nccl [--max-mib N] [--iters N]
// Without two devices (or a build without CUDA/NCCL): prints why it
// skipped, exits 0.
#include <pthread.h>  // pthread_create, pthread_barrier_t
#include <stdio.h>    // printf
#include <stdlib.h>   // atoi
#include <string.h>   // strcmp

#include "core/fileio.h"  // rlc_now
#include "core/status.h"
#ifdef RLC_HAVE_CUDA
#include "kernels/cuda/kcuda.h"
#endif
#ifdef RLC_HAVE_NCCL
#include "kernels/cuda/kc_nccl.h"
#endif

#if defined(RLC_HAVE_CUDA) && defined(RLC_HAVE_NCCL)

typedef struct {
    int rank;
    uint8_t id[256];
    size_t id_len;
    size_t max_bytes;
    int iters;
    pthread_barrier_t *go;
    double bcast_s[32], swap_s[32];  // per size: the mean over iters
    int n_sizes;
    rlc_status result;
    char err[512];
} rank_arg;

static void *rank_main(void *p) {
    rank_arg *a = p;
    kc_ctx *c = NULL;
    kc_comm *m = NULL;
    void *buf = NULL, *bf = NULL;
    rlc_status s = kc_open(a->rank, &c);
    if (s == RLC_OK) s = kc_malloc(c, &buf, a->max_bytes);
    if (s == RLC_OK && a->rank == 1) s = kc_malloc(c, &bf, a->max_bytes / 2);
    if (s == RLC_OK) s = kc_memset(c, buf, 0x3f, a->max_bytes);
    if (s == RLC_OK) s = kc_sync(c);
    if (s == RLC_OK) s = kc_comm_init_rank(c, a->rank, 2, a->id, a->id_len, 60000, &m);
    int k = 0;
    for (size_t bytes = (size_t)1 << 20; s == RLC_OK && bytes <= a->max_bytes && k < 32; bytes <<= 1, k++) {
        double tb = 0, tw = 0;
        for (int it = -1; s == RLC_OK && it < a->iters; it++) {  // it -1: warm-up
            pthread_barrier_wait(a->go);
            double t0 = rlc_now();
            s = kc_broadcast(m, c, buf, bytes, 0);
            if (s == RLC_OK) s = kc_comm_wait(m, c, 60000);
            double t1 = rlc_now();
            if (s == RLC_OK && a->rank == 1) {
                kc_convert(c, bf, KC_BF16, buf, KC_F32, bytes / 4);
                s = kc_sync(c);
            }
            if (it >= 0) tb += t1 - t0, tw += rlc_now() - t1;
        }
        a->bcast_s[k] = tb / a->iters;
        a->swap_s[k] = tw / a->iters;
    }
    a->n_sizes = k;
    a->result = s;
    if (s != RLC_OK) snprintf(a->err, sizeof a->err, "%s", rlc_last_error());
    kc_comm_free(m);
    if (c) {
        kc_free(c, buf);
        kc_free(c, bf);
    }
    kc_close(c);
    return NULL;
}

int main(int argc, char **argv) {
    int max_mib = 1024, iters = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--max-mib")) max_mib = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--iters")) iters = atoi(argv[i + 1]);
    }
    if (max_mib < 1) max_mib = 1;
    if (iters < 1) iters = 1;
    int n = 0;
    char info[4096];
    if (kernels_cuda_query(&n, info, sizeof info) != RLC_OK || n < 2) {
        printf("bench_weight_sync_nccl: skipped: needs two CUDA devices (found %d; NCCL takes one rank per device)\n", n);
        return 0;
    }
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    rank_arg r[2] = {{.rank = 0}, {.rank = 1}};
    if (kc_comm_unique_id(r[0].id, sizeof r[0].id, &r[0].id_len) != RLC_OK) {
        printf("bench_weight_sync_nccl: %s\n", rlc_last_error());
        return 1;
    }
    for (int i = 0; i < 2; i++) {
        memcpy(r[i].id, r[0].id, r[0].id_len);
        r[i].id_len = r[0].id_len;
        r[i].max_bytes = (size_t)max_mib << 20;
        r[i].iters = iters;
        r[i].go = &go;
    }
    pthread_t th[2];
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, rank_main, &r[i]);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < 2; i++)
        if (r[i].result != RLC_OK) {
            printf("bench_weight_sync_nccl: rank %d: %s\n", i, r[i].err);
            return 1;
        }
    printf("weight sync by NCCL, cuda:0 -> cuda:1, mean of %d\n%10s %12s %10s %14s\n", iters, "MiB", "broadcast ms",
           "GB/s", "swap bf16 ms");
    for (int k = 0; k < r[1].n_sizes; k++) {
        double mib = (double)((size_t)1 << k), s = r[1].bcast_s[k];
        printf("%10.0f %12.3f %10.2f %14.3f\n", mib, 1e3 * s, s > 0 ? mib * 1048576.0 / s / 1e9 : 0.0,
               1e3 * r[1].swap_s[k]);
    }
    return 0;
}

#else

int main(void) {
#ifndef RLC_HAVE_CUDA
    printf("bench_weight_sync_nccl: skipped: this build has no CUDA backend\n");
#else
    printf("bench_weight_sync_nccl: skipped: this build has no NCCL\n");
#endif
    return 0;
}

#endif

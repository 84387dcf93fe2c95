// test_cuda_weight_sync.c: NCCL weight sync on real devices.
//  - one device: the GPU model's staging buffer (actor_gpu_model_staging)
//    filled with a new version and swapped in (actor_gpu_model_load_staging)
//    gives the same logits, bit for bit, as the same version uploaded from
//    the host (actor_gpu_model_load_params), in float32 and in bf16;
//  - two devices and NCCL: a learner thread (rank 0 on cuda:0, the GPU
//    trainer's master weights, kc_comm_init_rank / kc_broadcast /
//    kc_comm_wait as learner/wgroup.c does) and a worker thread (rank 1 on
//    cuda:1 through rollout/wgroup_gpu.c, the worker's own operations):
//    the version lands bit-exactly in the worker's staging buffer and its
//    logits equal a reference model loaded with that version; a second
//    version too (the communicator is reused); then a worker that never
//    takes part makes the learner's wait time out with RLC_ERR_LIMIT.
// Skipped (exit 77) without the CUDA backend or a device; the NCCL part is
// skipped with fewer than two devices or without NCCL in the build (NCCL
// does not take two ranks on one device).
#include <pthread.h>  // pthread_create
#include <stdio.h>    // printf
#include <string.h>   // memcmp

#include "actor/gpu_model.h"
#include "actor/gpu_train.h"
#include "actor/model.h"
#include "core/core.h"
#include "tests/test.h"
#ifdef RLC_HAVE_CUDA
#include "kernels/cuda/kcuda.h"
#endif
#ifdef RLC_HAVE_NCCL
#include "kernels/cuda/kc_nccl.h"
#include "rollout/wgroup_gpu.h"
#endif

#ifdef RLC_HAVE_CUDA

static const int toks[] = {1, 403, 271, 9, 88, 300, 17, 2}, n_toks = 8;

// The logits of a forward over toks (slot 0, positions 0..7), on the host.
static float *logits_of(actor_gpu_model *g, int vocab) {
    int slots[8] = {0}, pos[8];
    for (int i = 0; i < n_toks; i++) pos[i] = i;
    float *out = rlc_malloc(sizeof(float) * (size_t)n_toks * (size_t)vocab);
    if (out && actor_gpu_forward(g, toks, slots, pos, n_toks, NULL, out) != RLC_OK) {
        fprintf(stderr, "forward: %s\n", rlc_last_error());
        rlc_free(out);
        return NULL;
    }
    return out;
}

static void check_same(const float *a, const float *b, size_t n, const char *what) {
    CHECK_MSG(a && b, "%s: no logits", what);
    if (!a || !b) return;
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0 && bad++ == 0) first = i;
    CHECK_MSG(bad == 0, "%s: %zu of %zu logits differ; first [%zu] = %.9g, want %.9g", what, bad, n, first,
              bad ? a[first] : 0.0f, bad ? b[first] : 0.0f);
}

// A new version: the model's weights, every 7th one nudged.
static void make_version(const actor_params *p, float *out, float nudge) {
    memcpy(out, p->data, p->numel * sizeof(float));
    for (size_t i = 0; i < p->numel; i += 7) out[i] += nudge;
}

static void test_staging(actor_model *m, int device, actor_gpu_dtype dt) {
    const actor_params *p = actor_model_params(m);
    int V = actor_model_config(m)->vocab_size;
    actor_params next;
    CHECK_OK(actor_params_create(actor_model_config(m), &next));
    make_version(p, next.data, 0.01f);
    actor_gpu_model *a = NULL, *b = NULL;
    CHECK_OK(actor_gpu_model_create(m, device, dt, 2, 32, 16, &a));
    CHECK_OK(actor_gpu_model_create(m, device, dt, 2, 32, 16, &b));
    if (a && b) {
        CHECK(actor_gpu_model_load_staging(a) == RLC_ERR_STATE);  // nothing staged yet
        void *kc;
        float *staging;
        size_t n;
        CHECK_OK(actor_gpu_model_staging(a, &kc, &staging, &n));
        CHECK(n == p->numel);
        CHECK_OK(kc_upload(kc, staging, next.data, n * sizeof(float)));
        CHECK_OK(actor_gpu_model_load_staging(a));
        CHECK_OK(actor_gpu_model_load_params(b, &next));
        float *la = logits_of(a, V), *lb = logits_of(b, V);
        check_same(la, lb, (size_t)n_toks * V, dt == ACTOR_GPU_BF16 ? "staging vs upload, bf16" : "staging vs upload, f32");
        rlc_free(la);
        rlc_free(lb);
    }
    actor_gpu_model_free(a);
    actor_gpu_model_free(b);
    actor_params_free(&next);
}

#ifdef RLC_HAVE_NCCL

typedef struct {
    actor_model *m;
    const actor_params *v1, *v2;
    uint8_t id[256];
    size_t id_len;
    int timeout_ms;
    int worker_skips;  // the worker does not take part in the third round
    rlc_status learner, worker;
    char learner_err[512], worker_err[512];
    float *worker_got;  // (numel) the worker's staging after each round
    float *ref_logits, *worker_logits;
    pthread_barrier_t round;
} duo;

static void *learner_main(void *arg) {
    duo *d = arg;
    actor_gpu_trainer *t = NULL;
    kc_comm *comm = NULL;
    rlc_status s = actor_gpu_trainer_create(d->m, 0, 0, 16, 0, 0, &t);
    void *kc = NULL;
    const float *master = NULL;
    if (s == RLC_OK) s = actor_gpu_params_device(t, &kc, &master);
    if (s == RLC_OK) s = kc_comm_init_rank(kc, 0, 2, d->id, d->id_len, d->timeout_ms, &comm);
    size_t bytes = d->v1->numel * sizeof(float);
    // The third round broadcasts 256 MiB: far more than NCCL's buffers, so
    // that the root cannot finish without the receiver (a 1 MB model could).
    size_t big = (size_t)256 << 20;
    void *big_buf = NULL;
    if (s == RLC_OK) s = kc_malloc(kc, &big_buf, big);
    for (int r = 0; r < 3; r++) {
        const actor_params *v = r == 1 ? d->v2 : d->v1;
        if (s == RLC_OK) s = actor_gpu_params_upload(t, v);  // the trainer's new master weights
        if (s == RLC_OK) s = actor_gpu_params_device(t, &kc, &master);
        if (s == RLC_OK) s = kc_broadcast(comm, kc, r == 2 ? big_buf : (void *)master, r == 2 ? big : bytes, 0);
        rlc_status w = s == RLC_OK ? kc_comm_wait(comm, kc, r == 2 ? 2000 : d->timeout_ms) : s;
        if (r < 2) s = w;
        else d->learner = w;  // the round the worker skips
        pthread_barrier_wait(&d->round);
        if (s != RLC_OK) break;
    }
    if (s != RLC_OK) {
        d->learner = s;
        snprintf(d->learner_err, sizeof d->learner_err, "%s", rlc_last_error());
    } else if (d->learner != RLC_OK) {
        snprintf(d->learner_err, sizeof d->learner_err, "%s", rlc_last_error());
    }
    kc_comm_free(comm);
    if (kc) kc_free(kc, big_buf);
    actor_gpu_trainer_free(t);
    return NULL;
}

static void *worker_main(void *arg) {
    duo *d = arg;
    int V = actor_model_config(d->m)->vocab_size;
    actor_gpu_model *g = NULL, *ref = NULL;
    void *ctx = NULL;
    const rollout_nccl_ops *ops = rollout_wgroup_gpu_ops();
    rlc_status s = actor_gpu_model_create(d->m, 1, ACTOR_GPU_F32, 2, 32, 16, &g);
    if (s == RLC_OK) s = actor_gpu_model_create(d->m, 1, ACTOR_GPU_F32, 2, 32, 16, &ref);
    if (s == RLC_OK) s = rollout_wgroup_gpu_create(g, &ctx);
    if (s == RLC_OK) s = ops->init(ctx, d->id, d->id_len, 1, 2, d->timeout_ms);
    size_t bytes = d->v1->numel * sizeof(float);
    for (int r = 0; r < 3; r++) {
        const actor_params *v = r == 1 ? d->v2 : d->v1;
        if (r < 2) {
            if (s == RLC_OK) s = ops->receive(ctx, bytes, d->timeout_ms);
            if (s == RLC_OK) s = ops->download(ctx, d->worker_got + (size_t)r * d->v1->numel, bytes);
            if (s == RLC_OK) s = ops->install(ctx);
            if (s == RLC_OK) s = actor_gpu_model_load_params(ref, v);
            if (s == RLC_OK && r == 1) {
                d->worker_logits = logits_of(g, V);
                d->ref_logits = logits_of(ref, V);
            }
        }
        pthread_barrier_wait(&d->round);
        if (s != RLC_OK) break;
    }
    d->worker = s;
    if (s != RLC_OK) snprintf(d->worker_err, sizeof d->worker_err, "%s", rlc_last_error());
    rollout_wgroup_gpu_free(ctx);  // leaves: the learner aborted its side already
    actor_gpu_model_free(g);
    actor_gpu_model_free(ref);
    return NULL;
}

static void test_broadcast(actor_model *m) {
    const actor_params *p = actor_model_params(m);
    actor_params v1, v2;
    CHECK_OK(actor_params_create(actor_model_config(m), &v1));
    CHECK_OK(actor_params_create(actor_model_config(m), &v2));
    make_version(p, v1.data, 0.02f);
    make_version(p, v2.data, -0.03f);
    duo d = {.m = m, .v1 = &v1, .v2 = &v2, .timeout_ms = 60000};
    d.worker_got = rlc_malloc(2 * p->numel * sizeof(float));
    CHECK_OK(kc_comm_unique_id(d.id, sizeof d.id, &d.id_len));
    pthread_barrier_init(&d.round, NULL, 2);
    pthread_t lt, wt;
    pthread_create(&lt, NULL, learner_main, &d);
    pthread_create(&wt, NULL, worker_main, &d);
    pthread_join(lt, NULL);
    pthread_join(wt, NULL);
    pthread_barrier_destroy(&d.round);
    CHECK_MSG(d.worker == RLC_OK, "worker: %s", d.worker_err);
    CHECK_MSG(d.learner == RLC_ERR_LIMIT, "learner, third round without the worker: %s (%s)",
              rlc_status_name(d.learner), d.learner_err);
    if (d.worker == RLC_OK) {
        CHECK_MSG(memcmp(d.worker_got, v1.data, p->numel * sizeof(float)) == 0, "version 1 not bit-exact");
        CHECK_MSG(memcmp(d.worker_got + p->numel, v2.data, p->numel * sizeof(float)) == 0, "version 2 not bit-exact");
        check_same(d.worker_logits, d.ref_logits, (size_t)n_toks * actor_model_config(m)->vocab_size,
                   "broadcast version vs uploaded version");
    }
    printf("broadcast: 2 versions of %zu bytes bit-exact on cuda:1; the missing peer: %s\n",
           p->numel * sizeof(float), d.learner_err);
    rlc_free(d.worker_got);
    rlc_free(d.worker_logits);
    rlc_free(d.ref_logits);
    actor_params_free(&v1);
    actor_params_free(&v2);
}

#endif  // RLC_HAVE_NCCL

int main(void) {
    int n_devices = 0;
    char info[4096];
    if (kernels_cuda_query(&n_devices, info, sizeof info) != RLC_OK || n_devices < 1)
        TEST_SKIP("no CUDA device: %s", rlc_last_error());
    char path[1024];
    actor_model *m = NULL;
    CHECK_OK(actor_model_load(test_data(path, sizeof path, "models/stories260K/stories260K.bin"), &m));
    if (!m) return test_finish("test_cuda_weight_sync");
    test_staging(m, 0, ACTOR_GPU_F32);
    test_staging(m, 0, ACTOR_GPU_BF16);
#ifdef RLC_HAVE_NCCL
    if (n_devices >= 2) test_broadcast(m);
    else printf("NCCL broadcast: skipped (one device; NCCL takes one rank per device)\n");
#else
    printf("NCCL broadcast: skipped (this build has no NCCL)\n");
#endif
    actor_model_free(m);
    return test_finish("test_cuda_weight_sync");
}

#else  // !RLC_HAVE_CUDA

int main(void) { TEST_SKIP("this build has no CUDA backend"); }

#endif

// pool.c: reward threads. Each worker owns one rlc_reward (so one Lua state);
// a batch is handed out in chunks under the pool's lock, and the caller
// waits until the last sample is scored.
#include <pthread.h>    // pthread_t, mutexes, condition variables
#include <string.h>     // memset

#include "core/core.h"  // rlc_calloc, rlc_errorf
#include "reward.h"

typedef struct pool_worker {
    struct rlc_reward_pool *pool;
    rlc_reward *reward;
    pthread_t thread;
    int started;
} pool_worker;

struct rlc_reward_pool {
    pool_worker *workers;
    int n_workers;
    pthread_mutex_t lock;
    pthread_cond_t work;  // a batch was posted, or shutdown
    pthread_cond_t done;  // the batch is finished
    // The current batch.
    const rlc_sample *samples;
    rlc_reward_result *results;
    size_t n, next, finished;  // batch size, next sample to hand out, samples done
    int shutdown;
};

static void *worker_main(void *arg) {
    pool_worker *w = arg;
    struct rlc_reward_pool *p = w->pool;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->shutdown && p->next >= p->n) pthread_cond_wait(&p->work, &p->lock);
        if (p->shutdown) break;
        // Take a chunk: a share of what is left, so that the threads finish
        // together and the lock is taken rarely.
        size_t left = p->n - p->next;
        size_t k = left / (4 * (size_t)p->n_workers);
        k = k < 1 ? 1 : k > 64 ? 64 : k;
        size_t i = p->next;
        p->next += k;
        const rlc_sample *samples = p->samples;
        rlc_reward_result *results = p->results;
        pthread_mutex_unlock(&p->lock);
        for (size_t j = i; j < i + k; j++) rlc_reward_score(w->reward, &samples[j], &results[j]);
        pthread_mutex_lock(&p->lock);
        p->finished += k;
        if (p->finished == p->n) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

void rlc_reward_pool_free(rlc_reward_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->shutdown = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->n_workers; i++) {
        if (p->workers[i].started) pthread_join(p->workers[i].thread, NULL);
        rlc_reward_free(p->workers[i].reward);
    }
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    rlc_free(p->workers);
    rlc_free(p);
}

rlc_status rlc_reward_pool_create(const rlc_reward_config *cfg, int n_threads,
                                  rlc_reward_errors *errs, rlc_reward_pool **out) {
    *out = NULL;
    if (n_threads < 1 || n_threads > 256)
        return rlc_errorf(RLC_ERR_ARG, "reward pool: threads must be 1..256 (got %d)", n_threads);
    rlc_reward_pool *p = rlc_calloc(1, sizeof *p);
    if (!p) return rlc_errorf(RLC_ERR_NOMEM, "reward pool: out of memory");
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    p->workers = rlc_calloc((size_t)n_threads, sizeof *p->workers);
    if (!p->workers) {
        rlc_reward_pool_free(p);
        return rlc_errorf(RLC_ERR_NOMEM, "reward pool: out of memory");
    }
    p->n_workers = n_threads;
    for (int i = 0; i < n_threads; i++) {
        pool_worker *w = &p->workers[i];
        w->pool = p;
        rlc_status st = rlc_reward_create(cfg, errs, &w->reward);
        if (st == RLC_OK && pthread_create(&w->thread, NULL, worker_main, w) != 0)
            st = rlc_errorf(RLC_ERR_NOMEM, "reward pool: cannot start thread %d", i);
        if (st != RLC_OK) {
            rlc_reward_pool_free(p);
            return st;
        }
        w->started = 1;
    }
    *out = p;
    return RLC_OK;
}

void rlc_reward_pool_score(rlc_reward_pool *p, const rlc_sample *samples, size_t n,
                           rlc_reward_result *results) {
    if (n == 0) return;
    pthread_mutex_lock(&p->lock);
    p->samples = samples;
    p->results = results;
    p->n = n;
    p->finished = 0;
    p->next = 0;
    pthread_cond_broadcast(&p->work);
    while (p->finished < p->n) pthread_cond_wait(&p->done, &p->lock);
    p->samples = NULL;
    p->results = NULL;
    p->n = p->next = 0;
    pthread_mutex_unlock(&p->lock);
}

// board.c: two slots and a lock per slot: a publish writes the slot that is
// not current, then flips `current`; a fetch copies from the current slot
// while holding that slot's read lock, so a publish can never overwrite it
// mid-copy (the writer waits on the other slot's lock only).
#include "board.h"

#include <pthread.h>    // pthread_rwlock_t
#include <stdatomic.h>  // atomic_int_least64_t
#include <string.h>     // memcpy

#include "alloc.h"   // rlc_malloc_aligned
#include "fileio.h"  // rlc_now

struct rlc_board {
    size_t bytes;
    void *slot[2];
    int64_t slot_version[2];
    pthread_rwlock_t lock[2];
    atomic_int current;         // the slot holding the newest version
    atomic_llong version;       // its version
    pthread_mutex_t publish;    // one publisher at a time
    pthread_mutex_t stats_lock;
    double bytes_out, seconds;
};

rlc_status rlc_board_create(size_t bytes, rlc_board **out) {
    *out = NULL;
    if (bytes == 0) return rlc_errorf(RLC_ERR_ARG, "weight board: size 0");
    rlc_board *b = rlc_calloc(1, sizeof *b);
    if (!b) return rlc_errorf(RLC_ERR_NOMEM, "weight board");
    b->bytes = bytes;
    b->slot[0] = rlc_malloc_aligned(bytes);
    b->slot[1] = rlc_malloc_aligned(bytes);
    if (!b->slot[0] || !b->slot[1]) {
        rlc_board_free(b);
        return rlc_errorf(RLC_ERR_NOMEM, "weight board: 2 x %zu bytes", bytes);
    }
    memset(b->slot[0], 0, bytes);  // touch the pages now, not in the first publish
    memset(b->slot[1], 0, bytes);
    b->slot_version[0] = b->slot_version[1] = -1;
    pthread_rwlock_init(&b->lock[0], NULL);
    pthread_rwlock_init(&b->lock[1], NULL);
    pthread_mutex_init(&b->publish, NULL);
    pthread_mutex_init(&b->stats_lock, NULL);
    atomic_init(&b->current, 0);
    atomic_init(&b->version, -1);
    *out = b;
    return RLC_OK;
}

void rlc_board_free(rlc_board *b) {
    if (!b) return;
    if (b->slot[0] && b->slot[1]) {
        pthread_rwlock_destroy(&b->lock[0]);
        pthread_rwlock_destroy(&b->lock[1]);
        pthread_mutex_destroy(&b->publish);
        pthread_mutex_destroy(&b->stats_lock);
    }
    rlc_free_aligned(b->slot[0]);
    rlc_free_aligned(b->slot[1]);
    rlc_free(b);
}

rlc_status rlc_board_publish(rlc_board *b, int64_t version, const void *data, size_t bytes) {
    if (bytes != b->bytes) return rlc_errorf(RLC_ERR_ARG, "weight board: %zu bytes published, the board holds %zu", bytes, b->bytes);
    pthread_mutex_lock(&b->publish);
    if (version <= atomic_load(&b->version)) {
        pthread_mutex_unlock(&b->publish);
        return rlc_errorf(RLC_ERR_ARG, "weight board: version %lld is not newer than %lld", (long long)version,
                          (long long)atomic_load(&b->version));
    }
    int next = 1 - atomic_load(&b->current);
    pthread_rwlock_wrlock(&b->lock[next]);  // waits for readers still copying an old version
    memcpy(b->slot[next], data, bytes);
    b->slot_version[next] = version;
    pthread_rwlock_unlock(&b->lock[next]);
    atomic_store(&b->current, next);
    atomic_store(&b->version, version);
    pthread_mutex_unlock(&b->publish);
    return RLC_OK;
}

int64_t rlc_board_version(const rlc_board *b) { return atomic_load(&((rlc_board *)b)->version); }

rlc_status rlc_board_fetch(rlc_board *b, int64_t have, void *dst, size_t bytes, int64_t *version) {
    *version = have;
    if (bytes != b->bytes) return rlc_errorf(RLC_ERR_ARG, "weight board: fetch of %zu bytes, the board holds %zu", bytes, b->bytes);
    if (atomic_load(&b->version) <= have) return RLC_OK;
    double t0 = rlc_now();
    int cur = atomic_load(&b->current);
    pthread_rwlock_rdlock(&b->lock[cur]);
    int64_t v = b->slot_version[cur];
    if (v > have) {
        memcpy(dst, b->slot[cur], bytes);
        *version = v;
    }
    pthread_rwlock_unlock(&b->lock[cur]);
    pthread_mutex_lock(&b->stats_lock);
    b->bytes_out += (double)bytes;
    b->seconds += rlc_now() - t0;
    pthread_mutex_unlock(&b->stats_lock);
    return RLC_OK;
}

void rlc_board_stats(const rlc_board *b, double *bytes_out, double *seconds) {
    pthread_mutex_lock(&((rlc_board *)b)->stats_lock);
    *bytes_out = b->bytes_out;
    *seconds = b->seconds;
    pthread_mutex_unlock(&((rlc_board *)b)->stats_lock);
}

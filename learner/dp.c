// dp.c: the data-parallel group of learner ranks (dp.h): the ZeroMQ
// all-reduce (rank 0 sums chunks in rank order) and broadcast, and the NCCL
// all-reduce of device gradients in builds with NCCL.
#include "dp.h"

#include <errno.h>   // EAGAIN, EHOSTUNREACH, EINTR
#include <stdint.h>  // uint8_t, uint16_t, uint32_t, uint64_t
#include <stdio.h>   // snprintf
#include <stdlib.h>  // getenv, strtod
#include <string.h>  // memcpy, memcmp, memset
#include <zmq.h>     // zmq_*

#include "core/core.h"  // rlc_errorf, rlc_calloc, rlc_now, RLC_DEBUG
#ifdef RLC_HAVE_NCCL
#include "kernels/cuda/kc_nccl.h"  // kc_comm_init, kc_allreduce
#endif

enum { DP_VERSION = 1, DP_HDR = 32 };
enum { DP_HELLO = 1, DP_WELCOME = 2, DP_PART = 3, DP_SUM = 4, DP_BCAST = 5, DP_PING = 6, DP_ABORT = 7 };
static const uint8_t DP_MAGIC[4] = {'R', 'L', 'C', 'P'};
static const char *const DP_TYPE_NAMES[] = {"?", "HELLO", "WELCOME", "PART", "SUM", "BCAST", "PING", "ABORT"};

struct lrn_dp {
    int rank, world;
    dist_env env;
    lrn_dp_config cfg;
    char endpoint[DIST_ADDR_MAX + 32];
    void *zctx, *sock;
    zmq_msg_t *ids;       // rank 0: (world) the routing id of each peer ([0] unused)
    unsigned char *have;  // rank 0: (world) a peer's chunk arrived / said hello
    uint8_t *scratch;     // rank 0: (world - 1) chunks of 8-byte elements
    uint64_t seq;         // collectives so far
    int failed;           // an error happened: the group is unusable
    double last_ping;
    void *comm;           // kc_comm *: NCCL, set up by the first lrn_dp_allreduce_device
};

typedef struct {
    int type, rank, world;
    uint64_t seq, offset;
    const uint8_t *payload;
    size_t len;
} dp_msg;

// ---- header -------------------------------------------------------------------

static void put_le(uint8_t *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get_le(const uint8_t *p, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

// Parses a frame into *m. RLC_ERR_BAD_MESSAGE (naming `from`) for a frame
// that is not ours or of another version.
static rlc_status parse(const uint8_t *p, size_t n, const char *from, dp_msg *m) {
    if (n < DP_HDR || memcmp(p, DP_MAGIC, 4) != 0)
        return rlc_errorf(RLC_ERR_BAD_MESSAGE, "data-parallel group: %s sent a frame of %zu bytes that is not ours",
                          from, n);
    unsigned v = (unsigned)get_le(p + 4, 2);
    if (v != DP_VERSION)
        return rlc_errorf(RLC_ERR_BAD_MESSAGE, "data-parallel group: %s speaks version %u, this build %d: every rank "
                          "must run the same rlc", from, v, DP_VERSION);
    m->type = (int)get_le(p + 6, 2);
    m->rank = (int)get_le(p + 8, 4);
    m->world = (int)get_le(p + 12, 4);
    m->seq = get_le(p + 16, 8);
    m->offset = get_le(p + 24, 8);
    m->payload = p + DP_HDR;
    m->len = n - DP_HDR;
    if (m->type < DP_HELLO || m->type > DP_ABORT)
        return rlc_errorf(RLC_ERR_BAD_MESSAGE, "data-parallel group: %s sent a message of unknown type %d", from,
                          m->type);
    return RLC_OK;
}

static const char *type_name(int t) { return t >= DP_HELLO && t <= DP_ABORT ? DP_TYPE_NAMES[t] : "?"; }

// ---- sending --------------------------------------------------------------------

// One frame (header + payload) to rank `to` (rank 0) or to rank 0 (others).
static rlc_status send_msg(lrn_dp *d, int to, int type, uint64_t offset, const void *payload, size_t len) {
    zmq_msg_t m;
    if (zmq_msg_init_size(&m, DP_HDR + len) != 0)
        return rlc_errorf(RLC_ERR_NOMEM, "data-parallel group: a message of %zu bytes", len);
    uint8_t *p = zmq_msg_data(&m);
    memcpy(p, DP_MAGIC, 4);
    put_le(p + 4, DP_VERSION, 2);
    put_le(p + 6, (uint64_t)type, 2);
    put_le(p + 8, (uint64_t)d->rank, 4);
    put_le(p + 12, (uint64_t)d->world, 4);
    put_le(p + 16, d->seq, 8);
    put_le(p + 24, offset, 8);
    if (len) memcpy(p + DP_HDR, payload, len);
    int rc = 0;
    if (d->rank == 0) {
        zmq_msg_t id;
        zmq_msg_init(&id);
        zmq_msg_copy(&id, &d->ids[to]);
        rc = zmq_msg_send(&id, d->sock, ZMQ_SNDMORE);
        if (rc < 0) zmq_msg_close(&id);
    }
    if (rc >= 0) rc = zmq_msg_send(&m, d->sock, 0);
    if (rc >= 0) return RLC_OK;
    int err = zmq_errno();
    zmq_msg_close(&m);
    if (err == EHOSTUNREACH)
        return rlc_errorf(RLC_ERR_LIMIT, "data-parallel group: rank %d is gone (its connection closed)", to);
    if (err == EAGAIN)
        return rlc_errorf(RLC_ERR_LIMIT, "data-parallel group: rank %d took no %s message within %.1f s", to,
                          type_name(type), d->cfg.timeout_ms / 1000.0);
    return rlc_errorf(RLC_ERR_IO, "data-parallel group: sending %s to rank %d: %s", type_name(type), to,
                      zmq_strerror(err));
}

// ---- receiving -------------------------------------------------------------------

// The next frame, into *frame (the caller closes it). Rank 0: *from is the
// sender's rank found by its routing id, or -1 for a peer not (yet) known,
// whose routing id is then moved into *id when id is not NULL. Others:
// *from = 0. Waits until `deadline` (rlc_now seconds); *timed_out = 1 and
// RLC_OK when nothing came in time.
static rlc_status recv_frame(lrn_dp *d, double deadline, zmq_msg_t *frame, int *from, zmq_msg_t *id,
                             int *timed_out) {
    *timed_out = 0;
    for (;;) {
        double left = deadline - rlc_now();
        if (left <= 0) {
            *timed_out = 1;
            return RLC_OK;
        }
        zmq_pollitem_t it = {.socket = d->sock, .events = ZMQ_POLLIN};
        long ms = (long)(left * 1000) + 1;
        int rc = zmq_poll(&it, 1, ms > 1000 ? 1000 : ms);
        if (rc < 0 && zmq_errno() == EINTR) continue;
        if (rc < 0) return rlc_errorf(RLC_ERR_IO, "data-parallel group: poll: %s", zmq_strerror(zmq_errno()));
        if (rc == 0) continue;
        zmq_msg_t rid;
        zmq_msg_init(&rid);
        if (d->rank == 0 && zmq_msg_recv(&rid, d->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&rid);
            continue;
        }
        zmq_msg_init(frame);
        if (zmq_msg_recv(frame, d->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(frame);
            zmq_msg_close(&rid);
            continue;
        }
        while (zmq_msg_more(frame)) {  // a peer that sent more frames: keep the first, drop the rest
            zmq_msg_t extra;
            zmq_msg_init(&extra);
            zmq_msg_recv(&extra, d->sock, 0);
            zmq_msg_close(&extra);
        }
        *from = 0;
        if (d->rank == 0) {
            *from = -1;
            for (int r = 1; r < d->world && *from < 0; r++)
                if (zmq_msg_size(&d->ids[r]) == zmq_msg_size(&rid) && zmq_msg_size(&rid) > 0 &&
                    memcmp(zmq_msg_data(&d->ids[r]), zmq_msg_data(&rid), zmq_msg_size(&rid)) == 0)
                    *from = r;
            if (*from < 0 && id) zmq_msg_move(id, &rid);
        }
        zmq_msg_close(&rid);
        return RLC_OK;
    }
}

static double deadline_in(const lrn_dp *d) { return rlc_now() + d->cfg.timeout_ms / 1000.0; }

// Marks the group failed and, on rank 0, tells the others why.
static rlc_status fail(lrn_dp *d, rlc_status s) {
    if (!d->failed && d->rank == 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", rlc_last_error());
        lrn_dp_abort(d, msg);
        rlc_errorf(s, "%s", msg);
    }
    d->failed = 1;
    return s;
}

// Another rank: the next message from rank 0 of type `type` for the current
// collective at `offset` with `len` payload bytes, copied into dst. PINGs
// are skipped (and, with idle, restart the wait); ABORT ends it.
static rlc_status recv_from_root(lrn_dp *d, int type, uint64_t offset, void *dst, size_t len, int idle) {
    double deadline = deadline_in(d);
    for (;;) {
        zmq_msg_t f;
        int from, timed_out;
        RLC_TRY(recv_frame(d, deadline, &f, &from, NULL, &timed_out));
        if (timed_out)
            return rlc_errorf(RLC_ERR_LIMIT, "data-parallel group: rank 0 (%s) sent nothing for %.1f s (waiting for "
                              "%s %llu of rank %d): is it alive?", d->endpoint, d->cfg.timeout_ms / 1000.0,
                              type_name(type), (unsigned long long)d->seq, d->rank);
        dp_msg m;
        rlc_status s = parse(zmq_msg_data(&f), zmq_msg_size(&f), "rank 0", &m);
        if (s == RLC_OK && m.type == DP_PING) {
            zmq_msg_close(&f);
            if (idle) deadline = deadline_in(d);
            continue;
        }
        if (s == RLC_OK && m.type == DP_ABORT)
            s = rlc_errorf(RLC_ERR_STATE, "data-parallel group: rank 0 failed: %.*s", (int)(m.len < 400 ? m.len : 400),
                           (const char *)m.payload);
        else if (s == RLC_OK && (m.type != type || m.seq != d->seq || m.offset != offset || m.len != len))
            s = rlc_errorf(RLC_ERR_BAD_MESSAGE, "data-parallel group: rank 0 sent %s %llu at %llu (%zu bytes), rank %d "
                           "expected %s %llu at %llu (%zu bytes): the ranks run different steps", type_name(m.type),
                           (unsigned long long)m.seq, (unsigned long long)m.offset, m.len, d->rank, type_name(type),
                           (unsigned long long)d->seq, (unsigned long long)offset, len);
        if (s == RLC_OK && len) memcpy(dst, m.payload, len);
        zmq_msg_close(&f);
        return s;
    }
}

// Rank 0: one PART from every other rank for chunk `offset` (len bytes
// each), into scratch slot r - 1.
static rlc_status gather_parts(lrn_dp *d, uint64_t offset, size_t len) {
    memset(d->have, 0, (size_t)d->world);
    int got = 0;
    double deadline = deadline_in(d);
    while (got < d->world - 1) {
        zmq_msg_t f;
        int from, timed_out;
        RLC_TRY(recv_frame(d, deadline, &f, &from, NULL, &timed_out));
        if (timed_out) {
            char who[256] = "";
            size_t at = 0;
            for (int r = 1; r < d->world && at < sizeof who - 16; r++)
                if (!d->have[r]) at += (size_t)snprintf(who + at, sizeof who - at, "%s%d", at ? ", " : "", r);
            return rlc_errorf(RLC_ERR_LIMIT, "data-parallel group: rank%s %s sent no part of all-reduce %llu within "
                              "%.1f s: dead or stuck?", strchr(who, ',') ? "s" : "", who, (unsigned long long)d->seq,
                              d->cfg.timeout_ms / 1000.0);
        }
        if (from < 0) {  // not a member: ignored
            zmq_msg_close(&f);
            continue;
        }
        char name[32];
        snprintf(name, sizeof name, "rank %d", from);
        dp_msg m;
        rlc_status s = parse(zmq_msg_data(&f), zmq_msg_size(&f), name, &m);
        if (s == RLC_OK && (m.type != DP_PART || m.seq != d->seq || m.offset != offset || m.len != len || d->have[from]))
            s = rlc_errorf(RLC_ERR_BAD_MESSAGE, "data-parallel group: rank %d sent %s %llu at %llu (%zu bytes)%s, rank 0 "
                           "expected PART %llu at %llu (%zu bytes): the ranks run different steps", from,
                           type_name(m.type), (unsigned long long)m.seq, (unsigned long long)m.offset, m.len,
                           d->have[from] ? " twice" : "", (unsigned long long)d->seq, (unsigned long long)offset, len);
        if (s == RLC_OK) {
            memcpy(d->scratch + (size_t)(from - 1) * d->cfg.chunk * 8, m.payload, len);
            d->have[from] = 1;
            got++;
        }
        zmq_msg_close(&f);
        if (s != RLC_OK) return s;
    }
    return RLC_OK;
}

// ---- the collectives ---------------------------------------------------------------

static rlc_status check_usable(const lrn_dp *d) {
    if (d->failed)
        return rlc_errorf(RLC_ERR_STATE, "data-parallel group: an earlier collective failed on rank %d", d->rank);
    return RLC_OK;
}

// The sum of n elements of esize (4: float, 8: double) bytes.
static rlc_status allreduce(lrn_dp *d, void *buf, size_t n, size_t esize) {
    RLC_TRY(check_usable(d));
    d->seq++;
    uint8_t *b = buf;
    for (size_t off = 0; off < n; off += d->cfg.chunk) {
        size_t cnt = n - off < d->cfg.chunk ? n - off : d->cfg.chunk, len = cnt * esize;
        uint8_t *mine = b + off * esize;
        if (d->rank != 0) {
            RLC_TRY(send_msg(d, 0, DP_PART, off, mine, len));
            RLC_TRY(recv_from_root(d, DP_SUM, off, mine, len, 0));
            continue;
        }
        RLC_TRY(gather_parts(d, off, len));
        for (int r = 1; r < d->world; r++) {  // rank order: ((x0 + x1) + x2) + ...
            const uint8_t *p = d->scratch + (size_t)(r - 1) * d->cfg.chunk * 8;
            if (esize == 4) {
                float *x = (float *)(void *)mine;
                const float *y = (const float *)(const void *)p;
                for (size_t i = 0; i < cnt; i++) x[i] += y[i];
            } else {
                double *x = (double *)(void *)mine;
                const double *y = (const double *)(const void *)p;
                for (size_t i = 0; i < cnt; i++) x[i] += y[i];
            }
        }
        for (int r = 1; r < d->world; r++) RLC_TRY(send_msg(d, r, DP_SUM, off, mine, len));
    }
    return RLC_OK;
}

rlc_status lrn_dp_allreduce_sum(lrn_dp *d, float *buf, size_t n) {
    if (!d || d->world == 1 || n == 0) return RLC_OK;
    if (!buf) return rlc_errorf(RLC_ERR_ARG, "lrn_dp_allreduce_sum: NULL buffer of %zu values", n);
    rlc_status s = allreduce(d, buf, n, sizeof(float));
    return s == RLC_OK ? s : fail(d, s);
}

rlc_status lrn_dp_allreduce_sum_f64(lrn_dp *d, double *buf, size_t n) {
    if (!d || d->world == 1 || n == 0) return RLC_OK;
    if (!buf) return rlc_errorf(RLC_ERR_ARG, "lrn_dp_allreduce_sum_f64: NULL buffer of %zu values", n);
    rlc_status s = allreduce(d, buf, n, sizeof(double));
    return s == RLC_OK ? s : fail(d, s);
}

rlc_status lrn_dp_broadcast(lrn_dp *d, void *buf, size_t bytes, int wait_idle) {
    if (!d || d->world == 1 || bytes == 0) return RLC_OK;
    if (!buf) return rlc_errorf(RLC_ERR_ARG, "lrn_dp_broadcast: NULL buffer of %zu bytes", bytes);
    rlc_status s = check_usable(d);
    if (s != RLC_OK) return s;
    d->seq++;
    size_t chunk = d->cfg.chunk * 4;
    uint8_t *b = buf;
    for (size_t off = 0; off < bytes && s == RLC_OK; off += chunk) {
        size_t len = bytes - off < chunk ? bytes - off : chunk;
        if (d->rank != 0) {
            s = recv_from_root(d, DP_BCAST, off, b + off, len, wait_idle && off == 0);
            continue;
        }
        for (int r = 1; r < d->world && s == RLC_OK; r++) s = send_msg(d, r, DP_BCAST, off, b + off, len);
    }
    if (d->rank == 0) d->last_ping = rlc_now();
    return s == RLC_OK ? s : fail(d, s);
}

void lrn_dp_ping(lrn_dp *d) {
    if (!d || d->world == 1 || d->rank != 0 || d->failed) return;
    double now = rlc_now();
    if (now - d->last_ping < 1.0) return;
    d->last_ping = now;
    for (int r = 1; r < d->world; r++) {
        rlc_status s = send_msg(d, r, DP_PING, 0, NULL, 0);
        if (s != RLC_OK) RLC_DEBUG("data-parallel group: ping: %s", rlc_last_error());
    }
}

void lrn_dp_abort(lrn_dp *d, const char *msg) {
    if (!d || d->world == 1 || d->rank != 0 || d->failed) return;
    d->failed = 1;
    size_t n = msg ? strlen(msg) : 0;
    for (int r = 1; r < d->world; r++)
        if (d->ids && zmq_msg_size(&d->ids[r]) > 0) (void)send_msg(d, r, DP_ABORT, 0, msg, n);
}

rlc_status lrn_dp_allreduce_device(lrn_dp *d, void *kc, float *dev_buf, size_t n) {
    if (!d || d->world == 1 || n == 0) return RLC_OK;
#ifdef RLC_HAVE_NCCL
    RLC_TRY(check_usable(d));
    if (!d->comm) {
        kc_comm *c = NULL;
        rlc_status s = kc_comm_init((kc_ctx *)kc, &d->env, d->cfg.timeout_ms, &c);
        if (s != RLC_OK) return fail(d, rlc_error_wrap(s, "data-parallel group: NCCL on rank %d", d->rank));
        d->comm = c;
    }
    rlc_status s = kc_allreduce((kc_comm *)d->comm, (kc_ctx *)kc, dev_buf, n, KC_F32, 0);
    return s == RLC_OK ? s : fail(d, rlc_error_wrap(s, "data-parallel group: all-reduce on rank %d", d->rank));
#else
    (void)kc, (void)dev_buf;
    return rlc_errorf(RLC_ERR_UNSUPPORTED, "data-parallel group: an all-reduce of device gradients needs NCCL, and "
                      "this build has none (configure with -DRLC_CUDA=ON where NCCL >= 2.10 is installed)");
#endif
}

// ---- the group ----------------------------------------------------------------------

int lrn_dp_rank(const lrn_dp *d) { return d ? d->rank : 0; }
int lrn_dp_world(const lrn_dp *d) { return d ? d->world : 1; }

void lrn_dp_free(lrn_dp *d) {
    if (!d) return;
#ifdef RLC_HAVE_NCCL
    kc_comm_free((kc_comm *)d->comm);
#endif
    if (d->sock) zmq_close(d->sock);
    if (d->zctx) zmq_ctx_term(d->zctx);
    for (int r = 0; d->ids && r < d->world; r++) zmq_msg_close(&d->ids[r]);
    rlc_free(d->ids);
    rlc_free(d->have);
    rlc_free(d->scratch);
    rlc_free(d);
}

// Rank 0: a HELLO from every other rank, then WELCOME to each.
static rlc_status join_root(lrn_dp *d) {
    int got = 0;
    double deadline = deadline_in(d);
    while (got < d->world - 1) {
        zmq_msg_t f, id;
        zmq_msg_init(&id);
        int from, timed_out;
        rlc_status s = recv_frame(d, deadline, &f, &from, &id, &timed_out);
        if (s != RLC_OK || timed_out) {
            zmq_msg_close(&id);
            if (s != RLC_OK) return s;
            char who[256] = "";
            size_t at = 0;
            for (int r = 1; r < d->world && at < sizeof who - 16; r++)
                if (!d->have[r]) at += (size_t)snprintf(who + at, sizeof who - at, "%s%d", at ? ", " : "", r);
            return rlc_errorf(RLC_ERR_LIMIT, "data-parallel group: rank%s %s never joined rank 0 at %s within %.1f s",
                              strchr(who, ',') ? "s" : "", who, d->endpoint, d->cfg.timeout_ms / 1000.0);
        }
        dp_msg m;
        s = parse(zmq_msg_data(&f), zmq_msg_size(&f), "a joining rank", &m);
        if (s == RLC_OK && m.type != DP_HELLO) s = RLC_ERR_ARG;  // a leftover of an earlier group: ignored
        else if (s == RLC_OK && m.world != d->world)
            s = rlc_errorf(RLC_ERR_CONFIG, "data-parallel group: rank %d says the world is %d, rank 0 says %d", m.rank,
                           m.world, d->world);
        else if (s == RLC_OK && (m.rank < 1 || m.rank >= d->world || d->have[m.rank]))
            s = rlc_errorf(RLC_ERR_CONFIG, "data-parallel group: a peer claims rank %d, %s (world %d)", m.rank,
                           m.rank >= 1 && m.rank < d->world ? "which already joined" : "out of range", d->world);
        if (s == RLC_OK) {
            zmq_msg_move(&d->ids[m.rank], &id);
            d->have[m.rank] = 1;
            got++;
        }
        zmq_msg_close(&f);
        zmq_msg_close(&id);
        if (s != RLC_OK && s != RLC_ERR_ARG) return s;
    }
    for (int r = 1; r < d->world; r++) RLC_TRY(send_msg(d, r, DP_WELCOME, 0, NULL, 0));
    return RLC_OK;
}

static rlc_status open_group(lrn_dp *d) {
    int port = d->cfg.port > 0 ? d->cfg.port : d->env.master_port + 1;
    if (port <= 0 || port > 65535)
        return rlc_errorf(RLC_ERR_CONFIG, "data-parallel group: no port for rank 0 (MASTER_PORT=%d)", d->env.master_port);
    if (!d->env.master_addr[0] && d->rank != 0)
        return rlc_errorf(RLC_ERR_CONFIG, "data-parallel group: MASTER_ADDR is not set (world %d)", d->world);
    d->zctx = zmq_ctx_new();
    if (!d->zctx) return rlc_errorf(RLC_ERR_IO, "data-parallel group: zmq_ctx_new failed");
    d->sock = zmq_socket(d->zctx, d->rank == 0 ? ZMQ_ROUTER : ZMQ_DEALER);
    if (!d->sock) return rlc_errorf(RLC_ERR_IO, "data-parallel group: zmq_socket: %s", zmq_strerror(zmq_errno()));
    int linger = 5000, one = 1, zero = 0, sndtimeo = d->cfg.timeout_ms;
    zmq_setsockopt(d->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(d->sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    zmq_setsockopt(d->sock, ZMQ_SNDHWM, &zero, sizeof zero);  // flow control is the protocol's
    zmq_setsockopt(d->sock, ZMQ_RCVHWM, &zero, sizeof zero);
    if (d->rank == 0) {
        zmq_setsockopt(d->sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
        snprintf(d->endpoint, sizeof d->endpoint, "tcp://*:%d", port);
        if (zmq_bind(d->sock, d->endpoint) != 0)
            return rlc_errorf(RLC_ERR_IO, "data-parallel group: rank 0 cannot bind %s: %s (MASTER_PORT + 1 must be free "
                              "on rank 0's host)", d->endpoint, zmq_strerror(zmq_errno()));
        d->ids = rlc_calloc((size_t)d->world, sizeof *d->ids);
        d->have = rlc_calloc((size_t)d->world, 1);
        d->scratch = rlc_malloc((size_t)(d->world - 1) * d->cfg.chunk * 8);
        if (!d->ids || !d->have || !d->scratch)
            return rlc_errorf(RLC_ERR_NOMEM, "data-parallel group: %d ranks of %zu-value chunks", d->world, d->cfg.chunk);
        for (int r = 0; r < d->world; r++) zmq_msg_init(&d->ids[r]);
        return join_root(d);
    }
    snprintf(d->endpoint, sizeof d->endpoint, "tcp://%s:%d", d->env.master_addr, port);
    if (zmq_connect(d->sock, d->endpoint) != 0)
        return rlc_errorf(RLC_ERR_IO, "data-parallel group: rank %d cannot connect to %s: %s", d->rank, d->endpoint,
                          zmq_strerror(zmq_errno()));
    RLC_TRY(send_msg(d, 0, DP_HELLO, 0, NULL, 0));
    rlc_status s = recv_from_root(d, DP_WELCOME, 0, NULL, 0, 0);
    if (s == RLC_ERR_LIMIT)
        return rlc_errorf(RLC_ERR_LIMIT, "data-parallel group: rank %d: rank 0 did not answer at %s within %.1f s",
                          d->rank, d->endpoint, d->cfg.timeout_ms / 1000.0);
    return s;
}

rlc_status lrn_dp_create(const dist_env *e, const lrn_dp_config *c, lrn_dp **out) {
    *out = NULL;
    if (!e || e->world < 1 || e->rank < 0 || e->rank >= e->world)
        return rlc_errorf(RLC_ERR_ARG, "lrn_dp_create: rank %d of world %d", e ? e->rank : -1, e ? e->world : 0);
    lrn_dp *d = rlc_calloc(1, sizeof *d);
    if (!d) return rlc_errorf(RLC_ERR_NOMEM, "data-parallel group");
    d->rank = e->rank;
    d->world = e->world;
    d->env = *e;
    if (c) d->cfg = *c;
    if (d->cfg.timeout_ms <= 0) {
        const char *v = getenv("RLC_DP_TIMEOUT_S");
        double sec = v ? strtod(v, NULL) : 0;
        d->cfg.timeout_ms = sec > 0 ? (int)(sec * 1000) : 600 * 1000;
    }
    if (d->cfg.chunk == 0) d->cfg.chunk = (size_t)1 << 20;
    rlc_status s = d->world > 1 ? open_group(d) : RLC_OK;
    if (s != RLC_OK) {
        if (d->rank == 0 && d->have) {  // the ranks that joined hear why
            char msg[512];
            snprintf(msg, sizeof msg, "%s", rlc_last_error());
            lrn_dp_abort(d, msg);
            rlc_errorf(s, "%s", msg);
        }
        lrn_dp_free(d);
        return s;
    }
    if (d->world > 1) RLC_DEBUG("data-parallel group: rank %d of %d joined at %s", d->rank, d->world, d->endpoint);
    *out = d;
    return RLC_OK;
}

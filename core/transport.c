// transport.c: ROUTER/DEALER sockets carrying protocol messages, with framing
// checks, timeouts and counters.
#include "transport.h"

#include <errno.h>   // EAGAIN, EHOSTUNREACH, EINTR, ETERM
#include <stdio.h>   // snprintf
#include <string.h>  // strlen, memcpy
#include <zmq.h>     // zmq_socket, zmq_msg_*, zmq_poll

#include "alloc.h"   // rlc_calloc, rlc_free
#include "fileio.h"  // rlc_now

struct rlc_transport {
    void *sock;
    int is_router;
    char endpoint[256];
    char peer[2 * 255 + 3];        // the last sender, printable ("" on a dealer)
    rlc_transport_opts opts;
    rlc_proto_buf enc;             // encode buffer, reused
    rlc_proto_decoder *dec;
    zmq_msg_t frame;               // the last message frame received (the decoded message borrows it)
    rlc_msg msg;
    rlc_transport_stats stats;
};

rlc_transport_opts rlc_transport_opts_default(void) {
    return (rlc_transport_opts){.linger_ms = 0, .sndhwm = 1000, .rcvhwm = 1000, .reconnect_ivl_ms = 100,
                                .reconnect_ivl_max_ms = 5000, .send_timeout_ms = 1000};
}

static rlc_status zerr(rlc_transport *t, const char *what) {
    int e = zmq_errno();
    return rlc_errorf(e == ETERM ? RLC_ERR_STATE : RLC_ERR_IO, "%s %s: %s", what, t->endpoint, zmq_strerror(e));
}

static rlc_status setopt_int(rlc_transport *t, int opt, int v, const char *name) {
    if (zmq_setsockopt(t->sock, opt, &v, sizeof v) != 0) return zerr(t, name);
    return RLC_OK;
}

static rlc_status create(void *zctx, int type, const char *endpoint, const rlc_proto_limits *limits,
                         const rlc_transport_opts *opts, rlc_transport **out) {
    *out = NULL;
    if (!zctx || !endpoint || !limits) return rlc_errorf(RLC_ERR_ARG, "transport: NULL context, endpoint or limits");
    if (strlen(endpoint) >= sizeof((rlc_transport *)0)->endpoint)
        return rlc_errorf(RLC_ERR_ARG, "transport: endpoint '%.64s...' is too long", endpoint);
    rlc_transport *t = rlc_calloc(1, sizeof *t);
    if (!t) return rlc_errorf(RLC_ERR_NOMEM, "transport %s", endpoint);
    snprintf(t->endpoint, sizeof t->endpoint, "%s", endpoint);
    t->opts = opts ? *opts : rlc_transport_opts_default();
    t->is_router = type == ZMQ_ROUTER;
    zmq_msg_init(&t->frame);
    rlc_status s = rlc_proto_decoder_create(limits, &t->dec);
    if (s != RLC_OK) {
        rlc_transport_free(t);
        return s;
    }
    t->sock = zmq_socket(zctx, type);
    if (!t->sock) {
        s = zerr(t, "zmq_socket for");
        rlc_transport_free(t);
        return s;
    }
    int64_t maxmsg = limits->max_message_bytes > INT64_MAX ? -1 : (int64_t)limits->max_message_bytes;
    if (zmq_setsockopt(t->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0) s = zerr(t, "ZMQ_MAXMSGSIZE on");
    if (s == RLC_OK) s = setopt_int(t, ZMQ_LINGER, t->opts.linger_ms, "ZMQ_LINGER on");
    if (s == RLC_OK) s = setopt_int(t, ZMQ_SNDHWM, t->opts.sndhwm, "ZMQ_SNDHWM on");
    if (s == RLC_OK) s = setopt_int(t, ZMQ_RCVHWM, t->opts.rcvhwm, "ZMQ_RCVHWM on");
    if (s != RLC_OK) {
        rlc_transport_free(t);
        return s;
    }
    *out = t;
    return RLC_OK;
}

rlc_status rlc_transport_router_create(void *zctx, const char *endpoint, const rlc_proto_limits *limits,
                                       const rlc_transport_opts *opts, rlc_transport **out) {
    rlc_transport *t;
    RLC_TRY(create(zctx, ZMQ_ROUTER, endpoint, limits, opts, &t));
    rlc_status s = setopt_int(t, ZMQ_ROUTER_MANDATORY, 1, "ZMQ_ROUTER_MANDATORY on");
    if (s == RLC_OK) s = setopt_int(t, ZMQ_ROUTER_HANDOVER, 1, "ZMQ_ROUTER_HANDOVER on");
    if (s == RLC_OK && zmq_bind(t->sock, endpoint) != 0) s = zerr(t, "bind");
    size_t n = sizeof t->endpoint;
    if (s == RLC_OK && zmq_getsockopt(t->sock, ZMQ_LAST_ENDPOINT, t->endpoint, &n) != 0) s = zerr(t, "ZMQ_LAST_ENDPOINT of");
    if (s != RLC_OK) {
        rlc_transport_free(t);
        return s;
    }
    *out = t;
    return RLC_OK;
}

rlc_status rlc_transport_dealer_create(void *zctx, const char *endpoint, const char *worker_id,
                                       const rlc_proto_limits *limits, const rlc_transport_opts *opts,
                                       rlc_transport **out) {
    *out = NULL;
    if (!worker_id || !rlc_proto_worker_id_valid(worker_id, strlen(worker_id)))
        return rlc_errorf(RLC_ERR_ARG, "dealer for %s: worker id '%s' is not 1..%d bytes of [A-Za-z0-9._:@-]",
                          endpoint ? endpoint : "(null)", worker_id ? worker_id : "(null)", RLC_PROTO_WORKER_ID_MAX);
    rlc_transport *t;
    RLC_TRY(create(zctx, ZMQ_DEALER, endpoint, limits, opts, &t));
    rlc_status s = RLC_OK;
    if (zmq_setsockopt(t->sock, ZMQ_ROUTING_ID, worker_id, strlen(worker_id)) != 0) s = zerr(t, "ZMQ_ROUTING_ID on");
    if (s == RLC_OK) s = setopt_int(t, ZMQ_RECONNECT_IVL, t->opts.reconnect_ivl_ms, "ZMQ_RECONNECT_IVL on");
    if (s == RLC_OK) s = setopt_int(t, ZMQ_RECONNECT_IVL_MAX, t->opts.reconnect_ivl_max_ms, "ZMQ_RECONNECT_IVL_MAX on");
    if (s == RLC_OK && zmq_connect(t->sock, endpoint) != 0) s = zerr(t, "connect");
    if (s != RLC_OK) {
        rlc_transport_free(t);
        return s;
    }
    *out = t;
    return RLC_OK;
}

void rlc_transport_free(rlc_transport *t) {
    if (!t) return;
    if (t->sock) zmq_close(t->sock);
    zmq_msg_close(&t->frame);
    rlc_proto_decoder_free(t->dec);
    rlc_proto_buf_free(&t->enc);
    rlc_free(t);
}

const char *rlc_transport_endpoint(const rlc_transport *t) { return t->endpoint; }
void *rlc_transport_zsocket(rlc_transport *t) { return t->sock; }
rlc_transport_stats rlc_transport_get_stats(const rlc_transport *t) { return t->stats; }

// ---- send -----------------------------------------------------------------------

// One frame, waiting at the high-water mark up to the deadline.
static int send_frame(rlc_transport *t, const void *data, size_t len, int flags, double deadline) {
    for (;;) {
        if (zmq_send(t->sock, data, len, flags | ZMQ_DONTWAIT) >= 0) return 0;
        if (zmq_errno() != EAGAIN && zmq_errno() != EINTR) return -1;
        double left = deadline - rlc_now();
        if (left <= 0) {
            errno = EAGAIN;
            return -1;
        }
        zmq_pollitem_t it = {t->sock, 0, ZMQ_POLLOUT, 0};
        // a ROUTER's POLLOUT says nothing about one peer: poll in short steps
        long ms = (long)(left * 1000) + 1;
        zmq_poll(&it, 1, t->is_router && ms > 5 ? 5 : ms);
    }
}

rlc_status rlc_transport_send_bytes(rlc_transport *t, const char *peer, const void *data, size_t len) {
    if (t->is_router != (peer != NULL))
        return rlc_errorf(RLC_ERR_ARG, "send on %s: a ROUTER needs a peer, a DEALER takes none", t->endpoint);
    double deadline = rlc_now() + t->opts.send_timeout_ms / 1000.0;
    int rc = 0;
    if (peer) rc = send_frame(t, peer, strlen(peer), ZMQ_SNDMORE, deadline);
    // with the identity frame sent, the message frame is never refused (same pipe)
    if (rc == 0) rc = send_frame(t, data, len, 0, deadline + 1.0);
    if (rc == 0) {
        t->stats.msgs_out++;
        t->stats.bytes_out += len;
        return RLC_OK;
    }
    int e = zmq_errno();
    t->stats.dropped_out++;
    const char *p = peer ? peer : "the learner";
    if (e == EHOSTUNREACH)
        return rlc_errorf(RLC_ERR_STATE, "send to '%s' on %s: peer not connected", p, t->endpoint);
    if (e == EAGAIN)
        return rlc_errorf(RLC_ERR_LIMIT, "send to '%s' on %s: timed out after %d ms at the high-water mark",
                          p, t->endpoint, t->opts.send_timeout_ms);
    return rlc_errorf(e == ETERM ? RLC_ERR_STATE : RLC_ERR_IO, "send to '%s' on %s: %s", p, t->endpoint,
                      zmq_strerror(e));
}

rlc_status rlc_transport_send(rlc_transport *t, const char *peer, const rlc_msg *m) {
    RLC_TRY(rlc_proto_encode(m, &t->enc));
    return rlc_transport_send_bytes(t, peer, t->enc.data, t->enc.len);
}

// ---- receive --------------------------------------------------------------------

// Reads and drops the remaining parts of a multipart message.
static int drain(rlc_transport *t) {
    int more = 0, parts = 0;
    size_t sz = sizeof more;
    zmq_getsockopt(t->sock, ZMQ_RCVMORE, &more, &sz);
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, t->sock, 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
        parts++;
    }
    return parts;
}

static void set_peer(rlc_transport *t, const uint8_t *id, size_t n) {
    if (rlc_proto_worker_id_valid((const char *)id, n)) {
        memcpy(t->peer, id, n);
        t->peer[n] = '\0';
        return;
    }
    char *p = t->peer;  // binary identity (a peer without ZMQ_ROUTING_ID): hex
    p += sprintf(p, "0x");
    for (size_t i = 0; i < n && i < 255; i++) p += sprintf(p, "%02x", id[i]);
}

static rlc_status bad_in(rlc_transport *t, const char *why) {
    t->stats.bad_in++;
    return rlc_errorf(RLC_ERR_BAD_MESSAGE, "from '%s' on %s: %s", t->peer[0] ? t->peer : "?", t->endpoint, why);
}

static rlc_status recv_part(rlc_transport *t, zmq_msg_t *m) {
    for (;;) {
        if (zmq_msg_recv(m, t->sock, 0) >= 0) return RLC_OK;
        if (zmq_errno() != EINTR) return zerr(t, "recv on");
    }
}

rlc_status rlc_transport_recv(rlc_transport *t, int timeout_ms, const rlc_msg **msg, const char **peer) {
    *msg = NULL;
    if (peer) *peer = t->peer;
    t->peer[0] = '\0';
    zmq_pollitem_t it = {t->sock, 0, ZMQ_POLLIN, 0};
    int n = zmq_poll(&it, 1, timeout_ms);
    if (n < 0) return zmq_errno() == EINTR ? RLC_OK : zerr(t, "poll on");
    if (n == 0) return RLC_OK;
    if (t->is_router) {
        zmq_msg_t id;
        zmq_msg_init(&id);
        rlc_status s = recv_part(t, &id);
        if (s != RLC_OK) {
            zmq_msg_close(&id);
            return s;
        }
        set_peer(t, zmq_msg_data(&id), zmq_msg_size(&id));
        int valid_id = rlc_proto_worker_id_valid(zmq_msg_data(&id), zmq_msg_size(&id));
        int more = zmq_msg_more(&id);
        zmq_msg_close(&id);
        if (!more) return bad_in(t, "an identity frame with no message");
        if (!valid_id) {
            drain(t);
            return bad_in(t, "the peer has no worker id identity (set ZMQ_ROUTING_ID to the worker id)");
        }
    }
    RLC_TRY(recv_part(t, &t->frame));
    if (zmq_msg_more(&t->frame)) {
        int extra = drain(t);
        char why[96];
        snprintf(why, sizeof why, "%d frames, expected %d", (t->is_router ? 2 : 1) + extra, t->is_router ? 2 : 1);
        return bad_in(t, why);
    }
    rlc_status s = rlc_proto_decode(t->dec, zmq_msg_data(&t->frame), zmq_msg_size(&t->frame), &t->msg);
    if (s == RLC_ERR_BAD_MESSAGE) {
        t->stats.bad_in++;
        return rlc_error_wrap(s, "from '%s' on %s", t->peer[0] ? t->peer : "the learner", t->endpoint);
    }
    if (s != RLC_OK) return rlc_error_wrap(s, "from '%s' on %s", t->peer, t->endpoint);
    if (t->is_router) {
        const char *wid = t->msg.type == RLC_MSG_HELLO ? t->msg.hello.worker_id
                        : t->msg.type == RLC_MSG_TRAJECTORY ? t->msg.trajectory.worker_id : NULL;
        if (wid && strcmp(wid, t->peer) != 0) {
            char why[200];
            snprintf(why, sizeof why, "%s.worker_id '%s' is not the sender's identity",
                     rlc_msg_type_name(t->msg.type), wid);
            t->msg.type = RLC_MSG_NONE;
            return bad_in(t, why);
        }
    }
    t->stats.msgs_in++;
    t->stats.bytes_in += zmq_msg_size(&t->frame);
    *msg = &t->msg;
    return RLC_OK;
}

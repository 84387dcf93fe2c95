// dist.c: rank and world from the launcher's environment variables, and the
// ZeroMQ rendezvous in which rank 0 hands a byte blob to every rank (the wire
// format is in dist.h).
#include "dist.h"

#include <arpa/inet.h>   // htonl
#include <errno.h>       // EINTR, ETERM
#include <netinet/in.h>  // sockaddr_in, INADDR_ANY
#include <stdint.h>      // uint8_t, uint16_t, uint32_t, uint64_t
#include <stdio.h>       // snprintf
#include <stdlib.h>      // getenv
#include <string.h>      // memcpy, memcmp, memset, strchr, strlen
#include <sys/socket.h>  // socket, bind, getsockname
#include <unistd.h>      // close
#include <zmq.h>         // zmq_ctx_new, zmq_socket, zmq_poll, zmq_msg_*

#include "alloc.h"   // rlc_calloc, rlc_free
#include "fileio.h"  // rlc_now
#include "log.h"     // RLC_DEBUG

// ---- the environment ------------------------------------------------------------

typedef struct {
    dist_launcher launcher;
    const char *rank, *world, *local_rank, *local_world;
} launcher_vars;

// In order of precedence (dist.h says why Open MPI comes before Slurm).
static const launcher_vars LAUNCHERS[] = {
    {DIST_LAUNCHER_TORCHRUN, "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"},
    {DIST_LAUNCHER_OPENMPI, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
     "OMPI_COMM_WORLD_LOCAL_SIZE"},
    {DIST_LAUNCHER_SLURM, "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"},
};

const char *dist_launcher_name(dist_launcher l) {
    static const char *names[DIST_LAUNCHER_COUNT] = {"none", "torchrun", "openmpi", "slurm"};
    return (unsigned)l < DIST_LAUNCHER_COUNT ? names[l] : "?";
}

dist_env dist_env_single(void) {
    dist_env e;
    memset(&e, 0, sizeof e);
    e.world = 1;
    e.local_world = 1;
    return e;
}

static const char *getenv_lookup(void *ud, const char *name) {
    (void)ud;
    return getenv(name);
}

// Reads variable `name` as a decimal integer in lo..hi. Unset: *found = 0 and
// *out untouched. Anything but digits (sign, spaces, empty) is an error.
static rlc_status read_int(dist_lookup_fn lookup, void *ud, const char *name, long lo, long hi, int *out,
                           int *found) {
    const char *v = lookup(ud, name);
    *found = v != NULL;
    if (!v) return RLC_OK;
    long x = 0;
    size_t n = strlen(v);
    if (n == 0) goto bad;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') goto bad;
        if (x <= hi) x = x * 10 + (v[i] - '0');  // stops growing once out of range
    }
    if (x < lo || x > hi)
        return rlc_errorf(RLC_ERR_CONFIG, "%s=%.64s%s is out of range (%ld..%ld)", name, v, n > 64 ? "..." : "", lo, hi);
    *out = (int)x;
    return RLC_OK;
bad:
    return rlc_errorf(RLC_ERR_CONFIG, "%s='%.64s%s' is not a decimal integer", name, v, n > 64 ? "..." : "");
}

static rlc_status read_launcher(dist_env *e, const launcher_vars *lv, dist_lookup_fn lookup, void *ud) {
    int found;
    e->launcher = lv->launcher;
    RLC_TRY(read_int(lookup, ud, lv->rank, 0, 1 << 24, &e->rank, &found));
    RLC_TRY(read_int(lookup, ud, lv->world, 1, 1 << 24, &e->world, &found));
    if (!found)
        return rlc_errorf(RLC_ERR_CONFIG, "%s is set (launcher %s) but %s is not", lv->rank,
                          dist_launcher_name(lv->launcher), lv->world);
    if (e->rank >= e->world)
        return rlc_errorf(RLC_ERR_CONFIG, "%s=%d is not below %s=%d", lv->rank, e->rank, lv->world, e->world);
    e->local_rank = -1;
    e->local_world = 0;
    RLC_TRY(read_int(lookup, ud, lv->local_world, 1, e->world, &e->local_world, &found));
    RLC_TRY(read_int(lookup, ud, lv->local_rank, 0, e->world - 1, &e->local_rank, &found));
    if (e->local_world > 0 && e->local_rank >= e->local_world)
        return rlc_errorf(RLC_ERR_CONFIG, "%s=%d is not below %s=%d", lv->local_rank, e->local_rank,
                          lv->local_world, e->local_world);
    return RLC_OK;
}

static rlc_status read_master(dist_env *e, dist_lookup_fn lookup, void *ud) {
    const char *addr = lookup(ud, "MASTER_ADDR");
    if (addr && addr[0]) {
        if (strlen(addr) >= sizeof e->master_addr)
            return rlc_errorf(RLC_ERR_CONFIG, "MASTER_ADDR='%.32s...' is longer than %d bytes", addr,
                              DIST_ADDR_MAX - 1);
        for (const char *p = addr; *p; p++)
            if (*p <= ' ' || *p == '/' || *p == '[' || *p == ']' || *p == '*')
                return rlc_errorf(RLC_ERR_CONFIG, "MASTER_ADDR='%s' is not a host name or IP address", addr);
        snprintf(e->master_addr, sizeof e->master_addr, "%s", addr);
    }
    int found;
    RLC_TRY(read_int(lookup, ud, "MASTER_PORT", 1, 65535, &e->master_port, &found));
    if (e->world > 1 && !e->master_addr[0])
        return rlc_errorf(RLC_ERR_CONFIG, "MASTER_ADDR is %s but world is %d (launcher %s): export the host of rank 0",
                          addr ? "empty" : "not set", e->world, dist_launcher_name(e->launcher));
    if (e->world > 1 && !found)
        return rlc_errorf(RLC_ERR_CONFIG, "MASTER_PORT is not set but world is %d (launcher %s): export a free port on %s",
                          e->world, dist_launcher_name(e->launcher), e->master_addr);
    return RLC_OK;
}

rlc_status dist_env_read_from(dist_env *e, dist_lookup_fn lookup, void *ud) {
    if (!e || !lookup) return rlc_errorf(RLC_ERR_ARG, "dist_env_read: NULL env or lookup");
    *e = dist_env_single();
    rlc_status s = RLC_OK;
    for (size_t i = 0; i < sizeof LAUNCHERS / sizeof LAUNCHERS[0]; i++) {
        if (lookup(ud, LAUNCHERS[i].rank)) {
            s = read_launcher(e, &LAUNCHERS[i], lookup, ud);
            break;
        }
    }
    if (s == RLC_OK) s = read_master(e, lookup, ud);
    if (s != RLC_OK) memset(e, 0, sizeof *e);
    return s;
}

rlc_status dist_env_read(dist_env *e) { return dist_env_read_from(e, getenv_lookup, NULL); }

rlc_status dist_find_free_port(int *port) {
    *port = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return rlc_errorf(RLC_ERR_IO, "dist_find_free_port: socket: %s", strerror(errno));
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    socklen_t n = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &n) != 0) {
        int err = errno;
        close(fd);
        return rlc_errorf(RLC_ERR_IO, "dist_find_free_port: bind: %s", strerror(err));
    }
    close(fd);
    *port = ntohs(a.sin_port);
    return RLC_OK;
}

// ---- rendezvous messages ---------------------------------------------------------

enum { MSG_HELLO = 1, MSG_BLOB = 2, MSG_REJECT = 3, MSG_ACK = 4 };
enum { DIST_VERSION = 1, HDR_BYTES = 8, HELLO_BYTES = 24, BLOB_HDR_BYTES = 16, REJECT_TEXT_MAX = 1024 };
static const uint8_t MAGIC[4] = {'R', 'L', 'C', 'D'};

static void put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get_u32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void put_header(uint8_t *p, int type) {
    memcpy(p, MAGIC, 4);
    put_u16(p + 4, DIST_VERSION);
    put_u16(p + 6, (uint16_t)type);
}

// HELLO and ACK share one layout.
static void put_hello(uint8_t p[HELLO_BYTES], int type, int rank, int world, size_t len) {
    put_header(p, type);
    put_u32(p + 8, (uint32_t)rank);
    put_u32(p + 12, (uint32_t)world);
    put_u64(p + 16, (uint64_t)len);
}

// The message's type; 0 when the frame does not start with the magic (not
// ours); RLC_ERR_BAD_MESSAGE (returned through *s) for another version.
static int msg_type(const uint8_t *p, size_t n, const char *who, rlc_status *s) {
    *s = RLC_OK;
    if (n < HDR_BYTES || memcmp(p, MAGIC, 4) != 0) return 0;
    unsigned v = get_u16(p + 4);
    if (v != DIST_VERSION) {
        *s = rlc_errorf(RLC_ERR_BAD_MESSAGE, "rendezvous: %s speaks version %u, this build speaks %d: every rank must run the same rlc",
                        who, v, DIST_VERSION);
        return 0;
    }
    return get_u16(p + 6);
}

// ---- rendezvous sockets ----------------------------------------------------------

typedef struct {
    void *zctx, *sock;
    char endpoint[DIST_ADDR_MAX + 32];  // what we bound or connected, for messages
    double deadline;                    // rlc_now() seconds; < 0: none
} rdv;

static rlc_status zerr(const rdv *r, const char *what) {
    int e = zmq_errno();
    return rlc_errorf(e == ETERM ? RLC_ERR_STATE : RLC_ERR_IO, "rendezvous: %s %s: %s", what, r->endpoint, zmq_strerror(e));
}

static rlc_status rdv_open(rdv *r, int type, const dist_env *e, int timeout_ms, size_t max_msg) {
    memset(r, 0, sizeof *r);
    r->deadline = timeout_ms < 0 ? -1 : rlc_now() + timeout_ms / 1000.0;
    int v6 = strchr(e->master_addr, ':') != NULL;  // an IPv6 literal
    if (type == ZMQ_ROUTER)
        snprintf(r->endpoint, sizeof r->endpoint, "tcp://*:%d", e->master_port);
    else
        snprintf(r->endpoint, sizeof r->endpoint, v6 ? "tcp://[%s]:%d" : "tcp://%s:%d", e->master_addr, e->master_port);
    r->zctx = zmq_ctx_new();
    if (!r->zctx) return zerr(r, "zmq_ctx_new for");
    r->sock = zmq_socket(r->zctx, type);
    if (!r->sock) return zerr(r, "zmq_socket for");
    // linger: REJECTs and the ACK must leave before the socket closes
    int linger = 1000, one = 1;
    int64_t maxmsg = (int64_t)max_msg;
    if (zmq_setsockopt(r->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(r->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        (v6 && zmq_setsockopt(r->sock, ZMQ_IPV6, &one, sizeof one) != 0))
        return zerr(r, "setting options on");
    if (type == ZMQ_ROUTER ? zmq_bind(r->sock, r->endpoint) != 0 : zmq_connect(r->sock, r->endpoint) != 0)
        return zerr(r, type == ZMQ_ROUTER ? "bind" : "connect");
    return RLC_OK;
}

static void rdv_close(rdv *r) {
    if (r->sock) zmq_close(r->sock);
    if (r->zctx) zmq_ctx_term(r->zctx);  // waits up to the linger for what is still queued
    r->sock = r->zctx = NULL;
}

// Milliseconds left before the deadline (-1: no deadline, 0: past it).
static long rdv_left_ms(const rdv *r) {
    if (r->deadline < 0) return -1;
    double left = r->deadline - rlc_now();
    return left <= 0 ? 0 : (long)(left * 1000) + 1;
}

// Waits for one frame (a ROUTER's identity frame first, into id[256]/*id_len).
// RLC_OK with *got = 0: the deadline passed. Extra frames are dropped.
static rlc_status rdv_recv(rdv *r, uint8_t *id, size_t *id_len, zmq_msg_t *msg, int *got) {
    *got = 0;
    for (;;) {
        long ms = rdv_left_ms(r);
        if (ms == 0) return RLC_OK;
        zmq_pollitem_t it = {r->sock, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, ms);
        if (n < 0 && zmq_errno() == EINTR) continue;
        if (n < 0) return zerr(r, "poll on");
        if (n == 0) continue;
        if (id) {
            int k;
            while ((k = zmq_recv(r->sock, id, 255, 0)) < 0 && zmq_errno() == EINTR) {}
            if (k < 0) return zerr(r, "recv on");
            *id_len = (size_t)k > 255 ? 255 : (size_t)k;
        }
        int rc;
        while ((rc = zmq_msg_recv(msg, r->sock, 0)) < 0 && zmq_errno() == EINTR) {}
        if (rc < 0) return zerr(r, "recv on");
        while (zmq_msg_more(msg)) {  // not our framing: keep the first part, drop the rest
            zmq_msg_t extra;
            zmq_msg_init(&extra);
            int k = zmq_msg_recv(&extra, r->sock, 0);
            int more = k >= 0 && zmq_msg_more(&extra);
            zmq_msg_close(&extra);
            if (!more) break;
        }
        *got = 1;
        return RLC_OK;
    }
}

// Sends [id][data] on a ROUTER (id != NULL) or [data] on a DEALER. A peer that
// has gone away is not an error here: its missing ACK is.
static rlc_status rdv_send(rdv *r, const uint8_t *id, size_t id_len, const void *data, size_t len) {
    if (id && zmq_send(r->sock, id, id_len, ZMQ_SNDMORE) < 0) return zerr(r, "send on");
    if (zmq_send(r->sock, data, len, 0) < 0) return zerr(r, "send on");
    return RLC_OK;
}

// ---- rank 0 -----------------------------------------------------------------------

typedef struct {
    uint8_t id[255];
    size_t id_len;
    int state;  // PEER_*
} peer;

enum { PEER_MISSING = 0, PEER_HELLO, PEER_ACKED };

// "1, 2, 5" for the ranks 1.. whose state is below `state` (at most 16 named).
static void missing_ranks(const peer *p, int world, int state, char *buf, size_t cap) {
    size_t n = 0;
    int count = 0;
    buf[0] = '\0';
    for (int r = 1; r < world; r++) {
        if (p[r].state >= state) continue;
        if (count++ < 16 && n < cap) n += (size_t)snprintf(buf + n, cap - n, "%s%d", count > 1 ? ", " : "", r);
    }
    if (count > 16 && n < cap) snprintf(buf + n, cap - n, ", ... (%d in all)", count);
}

// Tells every peer heard from (and `extra`, the offender, when given) that the
// rendezvous failed, quoting the current error message; returns `code`.
static rlc_status reject_all(rdv *r, peer *p, int world, const uint8_t *extra, size_t extra_len, rlc_status code) {
    uint8_t msg[HDR_BYTES + REJECT_TEXT_MAX];
    const char *why = rlc_last_error();
    size_t n = strlen(why);
    if (n > REJECT_TEXT_MAX) n = REJECT_TEXT_MAX;
    put_header(msg, MSG_REJECT);
    memcpy(msg + HDR_BYTES, why, n);
    for (int k = 1; k < world; k++)
        if (p[k].state != PEER_MISSING) rdv_send(r, p[k].id, p[k].id_len, msg, HDR_BYTES + n);
    if (extra) rdv_send(r, extra, extra_len, msg, HDR_BYTES + n);
    return code;
}

// Checks one HELLO against rank 0's env; the error names the peer's rank.
static rlc_status check_hello(const dist_env *e, const peer *p, size_t len, const uint8_t *m, size_t n,
                              const uint8_t *id, size_t id_len) {
    if (n != HELLO_BYTES)
        return rlc_errorf(RLC_ERR_BAD_MESSAGE, "rendezvous on port %d: a HELLO of %zu bytes, expected %d",
                          e->master_port, n, HELLO_BYTES);
    uint32_t rank = get_u32(m + 8), world = get_u32(m + 12);
    uint64_t blen = get_u64(m + 16);
    if (rank == 0 || rank >= (uint32_t)e->world)
        return rlc_errorf(RLC_ERR_CONFIG, "rendezvous on port %d: a peer says it is rank %u, not in 1..%d (world %d)",
                          e->master_port, rank, e->world - 1, e->world);
    if (world != (uint32_t)e->world)
        return rlc_errorf(RLC_ERR_CONFIG, "rendezvous on port %d: rank %u says world is %u, rank 0 has %d",
                          e->master_port, rank, world, e->world);
    if (blen != (uint64_t)len)
        return rlc_errorf(RLC_ERR_CONFIG, "rendezvous on port %d: rank %u expects a blob of %llu bytes, rank 0 has %zu",
                          e->master_port, rank, (unsigned long long)blen, len);
    const peer *q = &p[rank];
    if (q->state != PEER_MISSING && !(q->id_len == id_len && memcmp(q->id, id, id_len) == 0))
        return rlc_errorf(RLC_ERR_CONFIG, "rendezvous on port %d: two peers say they are rank %u",
                          e->master_port, rank);
    return RLC_OK;
}

static rlc_status serve(rdv *r, const dist_env *e, peer *p, const void *blob, size_t len, int timeout_ms) {
    uint8_t id[255], *out = NULL;
    size_t id_len = 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    rlc_status s = RLC_OK;
    int hellos = 0, acks = 0, got;
    // 1. every HELLO, checked; the first bad one fails the rendezvous for all
    while (s == RLC_OK && hellos < e->world - 1) {
        s = rdv_recv(r, id, &id_len, &m, &got);
        if (s != RLC_OK || !got) break;
        const uint8_t *d = zmq_msg_data(&m);
        size_t n = zmq_msg_size(&m);
        int type = msg_type(d, n, "a peer", &s);
        if (s != RLC_OK) s = reject_all(r, p, e->world, id, id_len, s);
        if (s != RLC_OK || type != MSG_HELLO) continue;  // not ours, or a stray ACK
        s = check_hello(e, p, len, d, n, id, id_len);
        if (s != RLC_OK) {
            s = reject_all(r, p, e->world, id, id_len, s);
            break;
        }
        peer *q = &p[get_u32(d + 8)];
        if (q->state != PEER_MISSING) continue;  // the same peer twice
        memcpy(q->id, id, id_len);
        q->id_len = id_len;
        q->state = PEER_HELLO;
        hellos++;
    }
    // 2. the blob to each
    if (s == RLC_OK && hellos == e->world - 1) {
        out = rlc_malloc(BLOB_HDR_BYTES + len);
        if (!out) s = rlc_errorf(RLC_ERR_NOMEM, "rendezvous: a blob of %zu bytes", len);
    }
    if (out) {
        put_header(out, MSG_BLOB);
        put_u64(out + 8, (uint64_t)len);
        if (len) memcpy(out + BLOB_HDR_BYTES, blob, len);
        for (int k = 1; s == RLC_OK && k < e->world; k++) s = rdv_send(r, p[k].id, p[k].id_len, out, BLOB_HDR_BYTES + len);
        rlc_free(out);
    }
    // 3. the ACKs; a HELLO now is one rank too many: it alone is turned away
    while (s == RLC_OK && hellos == e->world - 1 && acks < e->world - 1) {
        s = rdv_recv(r, id, &id_len, &m, &got);
        if (s != RLC_OK || !got) break;
        const uint8_t *d = zmq_msg_data(&m);
        size_t n = zmq_msg_size(&m);
        int type = msg_type(d, n, "a peer", &s);
        if (s != RLC_OK) {
            reject_all(r, p, 0, id, id_len, s);
            s = RLC_OK;  // the ranks already have the blob: only the stranger fails
            continue;
        }
        if (n != HELLO_BYTES || (type != MSG_ACK && type != MSG_HELLO)) continue;
        uint32_t rank = get_u32(d + 8);
        peer *q = rank > 0 && rank < (uint32_t)e->world ? &p[rank] : NULL;
        int known = q && q->id_len == id_len && memcmp(q->id, id, id_len) == 0;
        if (type == MSG_ACK && known && q->state == PEER_HELLO) {
            q->state = PEER_ACKED;
            acks++;
        } else if (type == MSG_HELLO && !known) {
            rlc_errorf(RLC_ERR_CONFIG, "rendezvous on port %d: a peer says it is rank %u, but every rank of %d has joined",
                       e->master_port, rank, e->world);
            reject_all(r, p, 0, id, id_len, RLC_ERR_CONFIG);
            RLC_DEBUG("%s", rlc_last_error());
        }
    }
    zmq_msg_close(&m);
    if (s != RLC_OK || (hellos == e->world - 1 && acks == e->world - 1)) return s;
    char ranks[200];
    int acking = hellos == e->world - 1;
    missing_ranks(p, e->world, acking ? PEER_ACKED : PEER_HELLO, ranks, sizeof ranks);
    s = rlc_errorf(RLC_ERR_LIMIT, "rendezvous on %s (world %d): timed out after %d ms; %s: %s", r->endpoint, e->world,
                   timeout_ms, acking ? "no acknowledgement from rank" : "never heard from rank", ranks);
    return acking ? s : reject_all(r, p, e->world, NULL, 0, s);
}

// ---- the other ranks ---------------------------------------------------------------

static rlc_status join(rdv *r, const dist_env *e, void *blob, size_t len, int timeout_ms) {
    uint8_t hello[HELLO_BYTES];
    put_hello(hello, MSG_HELLO, e->rank, e->world, len);
    RLC_TRY(rdv_send(r, NULL, 0, hello, sizeof hello));  // queued until the connection is up
    zmq_msg_t m;
    zmq_msg_init(&m);
    rlc_status s;
    int got;
    for (;;) {
        s = rdv_recv(r, NULL, NULL, &m, &got);
        if (s != RLC_OK) break;
        if (!got) {
            s = rlc_errorf(RLC_ERR_LIMIT, "rendezvous: rank %d had no answer from rank 0 at %s after %d ms (rank 0 "
                           "is not up, or still waits for other ranks)", e->rank, r->endpoint, timeout_ms);
            break;
        }
        const uint8_t *d = zmq_msg_data(&m);
        size_t n = zmq_msg_size(&m);
        int type = msg_type(d, n, "rank 0", &s);
        if (s != RLC_OK) break;
        if (type == MSG_REJECT) {
            int k = (int)(n - HDR_BYTES);
            s = rlc_errorf(RLC_ERR_CONFIG, "rendezvous: rank 0 at %s rejected rank %d: %.*s", r->endpoint, e->rank, k,
                           (const char *)d + HDR_BYTES);
            break;
        }
        if (type != MSG_BLOB) continue;
        if (n < BLOB_HDR_BYTES || get_u64(d + 8) != (uint64_t)len || n != BLOB_HDR_BYTES + len) {
            s = rlc_errorf(RLC_ERR_BAD_MESSAGE, "rendezvous: rank %d got a BLOB of %zu bytes from rank 0 at %s, expected %zu",
                           e->rank, n < BLOB_HDR_BYTES ? 0 : n - BLOB_HDR_BYTES, r->endpoint, len);
            break;
        }
        if (len) memcpy(blob, d + BLOB_HDR_BYTES, len);
        uint8_t ack[HELLO_BYTES];
        put_hello(ack, MSG_ACK, e->rank, e->world, len);
        s = rdv_send(r, NULL, 0, ack, sizeof ack);  // delivered within the linger on close
        break;
    }
    zmq_msg_close(&m);
    return s;
}

rlc_status dist_rendezvous(const dist_env *e, void *blob, size_t len, int timeout_ms) {
    if (!e || (!blob && len)) return rlc_errorf(RLC_ERR_ARG, "dist_rendezvous: NULL env or blob");
    if (e->world < 1 || e->rank < 0 || e->rank >= e->world)
        return rlc_errorf(RLC_ERR_ARG, "dist_rendezvous: rank %d of world %d", e->rank, e->world);
    if (e->world == 1) return RLC_OK;
    if (!e->master_addr[0] || e->master_port < 1 || e->master_port > 65535)
        return rlc_errorf(RLC_ERR_ARG, "dist_rendezvous: rank %d of %d needs MASTER_ADDR and MASTER_PORT (have '%s', %d)",
                          e->rank, e->world, e->master_addr, e->master_port);
    if (len > ((size_t)1 << 30)) return rlc_errorf(RLC_ERR_ARG, "dist_rendezvous: a blob of %zu bytes is over 1 GiB", len);
    rdv r;
    rlc_status s;
    if (e->rank == 0) {
        peer *p = rlc_calloc((size_t)e->world, sizeof *p);
        if (!p) return rlc_errorf(RLC_ERR_NOMEM, "dist_rendezvous: %d peers", e->world);
        s = rdv_open(&r, ZMQ_ROUTER, e, timeout_ms, 4096);
        if (s == RLC_OK) s = serve(&r, e, p, blob, len, timeout_ms);
        rlc_free(p);
    } else {
        s = rdv_open(&r, ZMQ_DEALER, e, timeout_ms, BLOB_HDR_BYTES + len + REJECT_TEXT_MAX);
        if (s == RLC_OK) s = join(&r, e, blob, len, timeout_ms);
        int zero = 0;  // a HELLO nobody took must not hold up the close
        if (s != RLC_OK && r.sock) zmq_setsockopt(r.sock, ZMQ_LINGER, &zero, sizeof zero);
    }
    rdv_close(&r);
    return s;
}

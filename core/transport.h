// transport.h: thin ZeroMQ helpers for the wire protocol. The learner binds a
// ROUTER; each rollout worker connects a DEALER whose identity is its worker id.
// Frames: DEALER -> ROUTER arrives as [identity][message]; ROUTER -> DEALER is
// sent as [identity][message] and arrives as [message]. A message frame is one
// encoded protocol message (protocol.h).
//
// A transport owns its socket, an encode buffer, a decoder and the last frame
// received; it counts messages in, out, bad and dropped. Like the ZeroMQ socket
// under it, a transport belongs to one thread at a time. Policy (credits, acks,
// heartbeat timing, resends) is the caller's; reliable.h has the pieces.
#ifndef RLC_TRANSPORT_H
#define RLC_TRANSPORT_H

#include <stddef.h>  // size_t
#include <stdint.h>  // uint64_t

#include "protocol.h"  // rlc_msg, rlc_proto_limits
#include "status.h"    // rlc_status

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rlc_transport rlc_transport;

typedef struct {
    int linger_ms;             // ZMQ_LINGER: how long close waits for unsent messages (default 0)
    int sndhwm, rcvhwm;        // ZMQ_SNDHWM / ZMQ_RCVHWM in messages (default 1000)
    int reconnect_ivl_ms;      // DEALER: ZMQ_RECONNECT_IVL (default 100)
    int reconnect_ivl_max_ms;  // DEALER: ZMQ_RECONNECT_IVL_MAX (default 5000)
    int send_timeout_ms;       // how long a send waits at the high-water mark (default 1000; 0: never)
} rlc_transport_opts;

rlc_transport_opts rlc_transport_opts_default(void);

typedef struct {
    uint64_t msgs_in, bytes_in;    // valid messages received
    uint64_t msgs_out, bytes_out;  // messages sent
    uint64_t bad_in;               // frames or messages rejected (malformed, wrong framing, bad identity)
    uint64_t dropped_out;          // sends that failed (peer unknown, timed out at the high-water mark)
} rlc_transport_stats;

// A ROUTER bound to `endpoint` ("inproc://x", "ipc:///tmp/x", "tcp://127.0.0.1:0",
// "tcp://*:5555"). Sets ZMQ_MAXMSGSIZE to limits->max_message_bytes (a peer that
// sends more is disconnected by ZeroMQ; the router keeps serving the others),
// ZMQ_ROUTER_MANDATORY (a send to an unknown peer fails instead of vanishing),
// ZMQ_ROUTER_HANDOVER (a worker that reconnects with its id takes over), linger
// and high-water marks. `zctx` is the caller's zmq context (shared by inproc
// peers); `limits` configure the decoder (copied). `opts` may be NULL (defaults).
// RLC_ERR_IO names the endpoint; RLC_ERR_ARG, RLC_ERR_NOMEM. Nothing is left on failure.
rlc_status rlc_transport_router_create(void *zctx, const char *endpoint, const rlc_proto_limits *limits,
                                       const rlc_transport_opts *opts, rlc_transport **out);

// A DEALER connected to `endpoint` with ZMQ_ROUTING_ID = worker_id (which must
// satisfy rlc_proto_worker_id_valid) and reconnect intervals. ZeroMQ reconnects
// by itself; to start over explicitly, free the transport and create it again
// with the same worker id.
rlc_status rlc_transport_dealer_create(void *zctx, const char *endpoint, const char *worker_id,
                                       const rlc_proto_limits *limits, const rlc_transport_opts *opts,
                                       rlc_transport **out);

void rlc_transport_free(rlc_transport *t);  // closes the socket (after linger_ms)

// The bound endpoint as ZeroMQ resolved it (ZMQ_LAST_ENDPOINT: a tcp port 0
// becomes the real port), or the connected one. Owned by the transport.
const char *rlc_transport_endpoint(const rlc_transport *t);
// The zmq socket, for zmq_poll with other sockets; do not recv/send on it directly.
void *rlc_transport_zsocket(rlc_transport *t);
rlc_transport_stats rlc_transport_get_stats(const rlc_transport *t);

// Encodes `m` and sends it. On a ROUTER `peer` is the worker id to send to;
// on a DEALER it must be NULL. Waits up to opts.send_timeout_ms at the
// high-water mark. Errors (each counted in dropped_out, except encoding ones):
// RLC_ERR_STATE peer not connected (ROUTER_MANDATORY), RLC_ERR_LIMIT timed out
// at the high-water mark, RLC_ERR_IO other ZeroMQ errors, RLC_ERR_ARG/NOMEM from
// encoding (nothing sent). The message names the peer and the endpoint.
rlc_status rlc_transport_send(rlc_transport *t, const char *peer, const rlc_msg *m);
// Sends bytes already encoded (for example from a resend ring).
rlc_status rlc_transport_send_bytes(rlc_transport *t, const char *peer, const void *data, size_t len);

// Waits up to timeout_ms (-1: forever, 0: poll) for one message.
//   RLC_OK, *msg != NULL: a valid message from *peer (a ROUTER's sender; on a
//     DEALER "" ). *msg and *peer borrow from the transport: valid until the
//     next recv or free.
//   RLC_OK, *msg == NULL: nothing arrived in time (or a signal interrupted the wait).
//   RLC_ERR_BAD_MESSAGE: a malformed message or frame arrived and was dropped and
//     counted (bad_in); *peer names the sender when known; the message says
//     what was wrong. The transport is fine: call again.
//   RLC_ERR_STATE: the context was terminated. RLC_ERR_IO: another ZeroMQ error.
// On a ROUTER, messages that carry a worker_id (hello, trajectory) must carry
// the sender's identity; peers without a valid worker id identity are rejected.
rlc_status rlc_transport_recv(rlc_transport *t, int timeout_ms, const rlc_msg **msg, const char **peer);

#ifdef __cplusplus
}
#endif

#endif

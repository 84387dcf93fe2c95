// wsync.h: how weight versions reach the rollout workers: the
// rollout.weight_sync setting and the per-worker choice between the NCCL
// weight group (a broadcast from the learner's device weights into the
// worker's GPU) and checksummed ZeroMQ chunks. Pure logic, no CUDA: the
// learner (learner/server.h) and the worker (rollout/worker.h) both call it,
// and the tests run it on the CPU. docs/protocol.md ("NCCL weight group")
// describes the exchange.
#ifndef RLC_WSYNC_H
#define RLC_WSYNC_H

#include <stdint.h>  // uint32_t

#include "status.h"  // rlc_status

typedef enum {
    RLC_WSYNC_AUTO = 0,  // NCCL where both ends can, ZeroMQ chunks otherwise (the default)
    RLC_WSYNC_ZMQ,       // always ZeroMQ chunks
    RLC_WSYNC_NCCL,      // NCCL; a learner or worker that cannot is a configuration error
} rlc_wsync_mode;

typedef enum { RLC_WSYNC_PATH_ZMQ = 0, RLC_WSYNC_PATH_NCCL } rlc_wsync_path;

// "auto", "zmq", "nccl" -> mode. RLC_ERR_CONFIG names rollout.weight_sync
// and the value otherwise (NULL is "auto").
rlc_status rlc_wsync_mode_parse(const char *value, rlc_wsync_mode *out);
const char *rlc_wsync_mode_name(rlc_wsync_mode m);  // "auto", "zmq", "nccl"
const char *rlc_wsync_path_name(rlc_wsync_path p);  // "zmq", "nccl"

// Whether one end (who: "learner" or "rollout worker w3") takes part in
// NCCL weight sync: *use = 1 when mode is not zmq and `can` (it runs on a
// CUDA device in a build with NCCL; `why_not` says what is missing
// otherwise, e.g. "model.device is cpu"). mode nccl with !can is
// RLC_ERR_CONFIG naming rollout.weight_sync, `who` and why_not.
rlc_status rlc_wsync_check(rlc_wsync_mode mode, int can, const char *why_not, const char *who, int *use);

// The learner's choice for one worker that said Hello with `caps`:
// NCCL when the mode is not zmq, the learner has an NCCL weight source
// (learner_nccl) and the worker lists RLC_PROTO_CAP_NCCL_WEIGHTS; ZeroMQ
// otherwise, with *why (a static string, may be NULL) saying why.
rlc_wsync_path rlc_wsync_choose(rlc_wsync_mode mode, int learner_nccl, const char *const *caps, uint32_t n_caps,
                                const char **why);

#endif

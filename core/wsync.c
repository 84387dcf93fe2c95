// wsync.c: the rollout.weight_sync setting and the NCCL-or-ZeroMQ choice.
#include "wsync.h"

#include <string.h>  // strcmp

#include "protocol.h"  // RLC_PROTO_CAP_NCCL_WEIGHTS

static const char *const mode_names[] = {"auto", "zmq", "nccl"};

rlc_status rlc_wsync_mode_parse(const char *value, rlc_wsync_mode *out) {
    *out = RLC_WSYNC_AUTO;
    if (!value) return RLC_OK;
    for (int m = 0; m < 3; m++)
        if (strcmp(value, mode_names[m]) == 0) {
            *out = (rlc_wsync_mode)m;
            return RLC_OK;
        }
    return rlc_errorf(RLC_ERR_CONFIG, "experiment: rollout.weight_sync \"%s\" is not a weight sync mode (use \"auto\", "
                      "\"zmq\" or \"nccl\")", value);
}

const char *rlc_wsync_mode_name(rlc_wsync_mode m) {
    return (unsigned)m < 3 ? mode_names[m] : "unknown";
}

const char *rlc_wsync_path_name(rlc_wsync_path p) { return p == RLC_WSYNC_PATH_NCCL ? "nccl" : "zmq"; }

rlc_status rlc_wsync_check(rlc_wsync_mode mode, int can, const char *why_not, const char *who, int *use) {
    *use = mode != RLC_WSYNC_ZMQ && can;
    if (mode == RLC_WSYNC_NCCL && !can)
        return rlc_errorf(RLC_ERR_CONFIG, "rollout.weight_sync = \"nccl\", but the %s cannot take part: %s (hint: "
                          "\"auto\" falls back to ZeroMQ chunks)", who, why_not ? why_not : "no NCCL");
    return RLC_OK;
}

rlc_wsync_path rlc_wsync_choose(rlc_wsync_mode mode, int learner_nccl, const char *const *caps, uint32_t n_caps,
                                const char **why) {
    const char *unused;
    if (!why) why = &unused;
    if (mode == RLC_WSYNC_ZMQ) {
        *why = "rollout.weight_sync is \"zmq\"";
        return RLC_WSYNC_PATH_ZMQ;
    }
    if (!learner_nccl) {
        *why = "the learner has no NCCL weight source (model.device cpu, or a build without NCCL)";
        return RLC_WSYNC_PATH_ZMQ;
    }
    for (uint32_t i = 0; caps && i < n_caps; i++)
        if (caps[i] && strcmp(caps[i], RLC_PROTO_CAP_NCCL_WEIGHTS) == 0) {
            *why = "both ends can";
            return RLC_WSYNC_PATH_NCCL;
        }
    *why = "the worker did not advertise " RLC_PROTO_CAP_NCCL_WEIGHTS " (not on a GPU, a build without NCCL, or "
           "rollout.weight_sync \"zmq\" on its side)";
    return RLC_WSYNC_PATH_ZMQ;
}

// proto_examples.h: example messages of every type and a field-by-field
// comparison, shared by tests/test_protocol.c, tests/test_transport.c and the
// fuzz target's seed corpus. Include after tests/test.h (uses CHECK_MSG).
#ifndef RLC_PROTO_EXAMPLES_H
#define RLC_PROTO_EXAMPLES_H

#include <string.h>  // memcmp, strcmp

#include "core/checksum.h"  // rlc_xxh64
#include "core/protocol.h"

#define VOCAB 1000

// ---- example messages -------------------------------------------------------------

static const char *caps[] = {"weights.zmq", "logprobs"};
static const uint64_t inflight[] = {17, 42};
static const int32_t prompt_tok[] = {1, 243, 871, 2};
static const char *stops[] = {"</s>", "\n\n"};
static const rlc_proto_kv meta[] = {{"answer", "42"}, {"source", "gsm8k"}};
static const int32_t comp_tok[] = {450, 901, 338, 2};
static const float comp_lp[] = {-0.25f, -1.5f, -0.0f, -3.75f};
static const int32_t comp_ver[] = {6, 6, 7, 7};
static const rlc_proto_component comps[] = {{"correct", 1.0}, {"format", 0.5}};
static const uint64_t acks[] = {9, 11};
static const uint8_t nccl_id[16] = {0x02, 0x00, 0x9c, 0x41, 0x0a, 0x00, 0x00, 0x07,
                                    0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03};  // a shortened unique id
static uint8_t flat[64];  // a whole "weight buffer": bytes 0..63; the example is its chunk 1

static inline rlc_msg example(rlc_msg_type t) {
    rlc_msg m = {.type = t};
    switch (t) {
    case RLC_MSG_HELLO:
        m.hello = (rlc_msg_hello){.worker_id = "w0", .session = 0x5eed, .device = "cuda:0",
                                  .capabilities = caps, .n_capabilities = 2, .max_credit = 8,
                                  .credit = 6, .inflight = inflight, .n_inflight = 2,
                                  .policy_version = 7};
        break;
    case RLC_MSG_PROMPT_REQUEST:
        m.prompt_request = (rlc_msg_prompt_request){
            .prompt_id = 42, .tokens = prompt_tok, .n_tokens = 4, .n = 8,
            .sampling = {.temperature = 1.0, .top_p = 0.95, .top_k = 50, .max_new_tokens = 512,
                         .seed = 1234, .stop = stops, .n_stop = 2},
            .metadata = meta, .n_metadata = 2};
        break;
    case RLC_MSG_TRAJECTORY:
        m.trajectory = (rlc_msg_trajectory){
            .worker_id = "w0", .session = 0x5eed, .seq = 12, .prompt_id = 42, .sample_index = 3,
            .prompt_tokens = prompt_tok, .n_prompt_tokens = 4, .tokens = comp_tok,
            .logprobs = comp_lp, .versions = comp_ver, .n_tokens = 4, .reward = 1.5,
            .components = comps, .n_components = 2, .finish = RLC_FINISH_STOP,
            .queue_s = 0.125, .generate_s = 2.5, .reward_s = 0.0625};
        break;
    case RLC_MSG_WEIGHTS:
        for (int i = 0; i < 64; i++) flat[i] = (uint8_t)i;
        m.weights = (rlc_msg_weights){.policy_version = 7, .chunk_index = 1, .chunk_count = 4,
                                      .offset = 16, .total_bytes = 64, .total_xxh64 = rlc_xxh64(flat, 64, 0),
                                      .data = flat + 16, .n_data = 16};
        m.weights.chunk_xxh64 = rlc_xxh64(flat + 16, 16, 0);
        break;
    case RLC_MSG_CREDIT: m.credit.count = 2; break;
    case RLC_MSG_ACK: m.ack = (rlc_msg_ack){.session = 0x5eed, .cumulative = 8, .seqs = acks, .n_seqs = 2}; break;
    case RLC_MSG_HEARTBEAT: m.heartbeat = (rlc_msg_heartbeat){.time = 1234.5, .status = "ok", .policy_version = 7}; break;
    case RLC_MSG_SHUTDOWN: m.shutdown.reason = "done"; break;
    case RLC_MSG_WEIGHT_GROUP:
        m.weight_group = (rlc_msg_weight_group){.group = 1, .rank = 2, .world = 3, .nccl_id = nccl_id,
                                                .n_nccl_id = sizeof nccl_id};
        break;
    case RLC_MSG_WEIGHTS_NCCL:
        for (int i = 0; i < 64; i++) flat[i] = (uint8_t)i;
        m.weights_nccl = (rlc_msg_weights_nccl){.policy_version = 7, .group = 1, .total_bytes = 64, .has_xxh64 = 1,
                                                .total_xxh64 = rlc_xxh64(flat, 64, 0)};
        break;
    default: break;
    }
    return m;
}

// ---- field-by-field comparison ------------------------------------------------------

static int fails_before __attribute__((unused));
#define EQ(a, b) CHECK_MSG((a) == (b), "%s: field %s differs", rlc_msg_type_name(x->type), #a)
#define EQS(a, b) CHECK_MSG(strcmp((a) ? (a) : "", (b) ? (b) : "") == 0, "%s: %s '%s' != '%s'", \
                            rlc_msg_type_name(x->type), #a, (a) ? (a) : "", (b) ? (b) : "")
#define EQA(a, b, n) CHECK_MSG((n) == 0 || memcmp((a), (b), (size_t)(n) * sizeof *(a)) == 0, "%s: array %s differs", \
                               rlc_msg_type_name(x->type), #a)

// Returns 1 when every field of x equals y.
static inline int msg_equal(const rlc_msg *x, const rlc_msg *y) {
    fails_before = test_failures;
    EQ(x->type, y->type);
    if (x->type != y->type) return 0;
    switch (x->type) {
    case RLC_MSG_HELLO: {
        const rlc_msg_hello *a = &x->hello, *b = &y->hello;
        EQS(a->worker_id, b->worker_id); EQ(a->session, b->session); EQS(a->device, b->device);
        EQ(a->n_capabilities, b->n_capabilities);
        for (uint32_t i = 0; i < a->n_capabilities && i < b->n_capabilities; i++) EQS(a->capabilities[i], b->capabilities[i]);
        EQ(a->max_credit, b->max_credit); EQ(a->credit, b->credit); EQ(a->n_inflight, b->n_inflight);
        if (a->n_inflight == b->n_inflight) EQA(a->inflight, b->inflight, a->n_inflight);
        EQ(a->policy_version, b->policy_version);
        break;
    }
    case RLC_MSG_PROMPT_REQUEST: {
        const rlc_msg_prompt_request *a = &x->prompt_request, *b = &y->prompt_request;
        EQ(a->prompt_id, b->prompt_id); EQ(a->n_tokens, b->n_tokens);
        if (a->n_tokens == b->n_tokens) EQA(a->tokens, b->tokens, a->n_tokens);
        EQ(a->n, b->n);
        EQ(a->sampling.temperature, b->sampling.temperature); EQ(a->sampling.top_p, b->sampling.top_p);
        EQ(a->sampling.top_k, b->sampling.top_k); EQ(a->sampling.max_new_tokens, b->sampling.max_new_tokens);
        EQ(a->sampling.seed, b->sampling.seed); EQ(a->sampling.n_stop, b->sampling.n_stop);
        for (uint32_t i = 0; i < a->sampling.n_stop && i < b->sampling.n_stop; i++) EQS(a->sampling.stop[i], b->sampling.stop[i]);
        EQ(a->n_metadata, b->n_metadata);
        for (uint32_t i = 0; i < a->n_metadata && i < b->n_metadata; i++) {
            EQS(a->metadata[i].key, b->metadata[i].key);
            EQS(a->metadata[i].value, b->metadata[i].value);
        }
        break;
    }
    case RLC_MSG_TRAJECTORY: {
        const rlc_msg_trajectory *a = &x->trajectory, *b = &y->trajectory;
        EQS(a->worker_id, b->worker_id); EQ(a->session, b->session); EQ(a->seq, b->seq);
        EQ(a->prompt_id, b->prompt_id); EQ(a->sample_index, b->sample_index);
        EQ(a->n_prompt_tokens, b->n_prompt_tokens);
        if (a->n_prompt_tokens == b->n_prompt_tokens) EQA(a->prompt_tokens, b->prompt_tokens, a->n_prompt_tokens);
        EQ(a->n_tokens, b->n_tokens);
        if (a->n_tokens == b->n_tokens) {
            EQA(a->tokens, b->tokens, a->n_tokens);
            EQA(a->logprobs, b->logprobs, a->n_tokens);  // bitwise: -0.0 stays -0.0
            EQA(a->versions, b->versions, a->n_tokens);
        }
        EQ(a->reward, b->reward); EQ(a->n_components, b->n_components);
        for (uint32_t i = 0; i < a->n_components && i < b->n_components; i++) {
            EQS(a->components[i].name, b->components[i].name);
            EQ(a->components[i].value, b->components[i].value);
        }
        EQ(a->finish, b->finish); EQ(a->queue_s, b->queue_s); EQ(a->generate_s, b->generate_s);
        EQ(a->reward_s, b->reward_s);
        break;
    }
    case RLC_MSG_WEIGHTS: {
        const rlc_msg_weights *a = &x->weights, *b = &y->weights;
        EQ(a->policy_version, b->policy_version); EQ(a->chunk_index, b->chunk_index);
        EQ(a->chunk_count, b->chunk_count); EQ(a->offset, b->offset); EQ(a->total_bytes, b->total_bytes);
        EQ(a->chunk_xxh64, b->chunk_xxh64); EQ(a->total_xxh64, b->total_xxh64); EQ(a->n_data, b->n_data);
        if (a->n_data == b->n_data) EQA(a->data, b->data, a->n_data);
        break;
    }
    case RLC_MSG_CREDIT: EQ(x->credit.count, y->credit.count); break;
    case RLC_MSG_ACK:
        EQ(x->ack.session, y->ack.session); EQ(x->ack.cumulative, y->ack.cumulative); EQ(x->ack.n_seqs, y->ack.n_seqs);
        if (x->ack.n_seqs == y->ack.n_seqs) EQA(x->ack.seqs, y->ack.seqs, x->ack.n_seqs);
        break;
    case RLC_MSG_HEARTBEAT:
        EQ(x->heartbeat.time, y->heartbeat.time); EQS(x->heartbeat.status, y->heartbeat.status);
        EQ(x->heartbeat.policy_version, y->heartbeat.policy_version);
        break;
    case RLC_MSG_SHUTDOWN: EQS(x->shutdown.reason, y->shutdown.reason); break;
    case RLC_MSG_WEIGHT_GROUP: {
        const rlc_msg_weight_group *a = &x->weight_group, *b = &y->weight_group;
        EQ(a->group, b->group); EQ(a->rank, b->rank); EQ(a->world, b->world); EQ(a->n_nccl_id, b->n_nccl_id);
        if (a->n_nccl_id == b->n_nccl_id) EQA(a->nccl_id, b->nccl_id, a->n_nccl_id);
        break;
    }
    case RLC_MSG_WEIGHTS_NCCL: {
        const rlc_msg_weights_nccl *a = &x->weights_nccl, *b = &y->weights_nccl;
        EQ(a->policy_version, b->policy_version); EQ(a->group, b->group); EQ(a->total_bytes, b->total_bytes);
        EQ(a->has_xxh64, b->has_xxh64);
        if (a->has_xxh64 && b->has_xxh64) EQ(a->total_xxh64, b->total_xxh64);
        break;
    }
    default: break;
    }
    return test_failures == fails_before;
}

#endif

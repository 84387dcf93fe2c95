// fuzz_protocol.c: libFuzzer target for the wire protocol decoder. Any input
// must decode to RLC_OK or RLC_ERR_BAD_MESSAGE without a sanitizer report; an
// accepted message must re-encode and decode to the same message.
//
//   CC=clang cmake -S . -B build-fuzz -DRLC_FUZZ=ON -DRLC_CUDA=OFF
//   cmake --build build-fuzz --target fuzz_protocol
//   mkdir -p corpus && ./build-fuzz/fuzz_protocol -seed_corpus=1 corpus -max_total_time=60
// With an empty corpus directory the target writes one seed per message type
// into it on start (see LLVMFuzzerInitialize).
#include <stdint.h>
#include <stdio.h>   // fopen
#include <stdlib.h>  // abort
#include <string.h>

#include "core/protocol.h"
#include "tests/test.h"
#include "tests/fuzz/proto_examples.h"

static rlc_proto_decoder *dec, *dec2;
static rlc_proto_buf buf;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    rlc_proto_limits lim = rlc_proto_limits_default(VOCAB);
    lim.max_message_bytes = 1 << 20;
    if (rlc_proto_decoder_create(&lim, &dec) != RLC_OK || rlc_proto_decoder_create(&lim, &dec2) != RLC_OK)
        abort();
    // seeds: the example of every type, written into the first directory argument
    const char *dir = NULL;
    for (int i = 1; i < *argc; i++)
        if ((*argv)[i][0] != '-') dir = (*argv)[i];
    if (!dir) return 0;
    for (int t = RLC_MSG_HELLO; t < RLC_MSG_TYPE_COUNT; t++) {
        rlc_msg m = example((rlc_msg_type)t);
        if (rlc_proto_encode(&m, &buf) != RLC_OK) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/seed-%s", dir, rlc_msg_type_name((rlc_msg_type)t));
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(buf.data, 1, buf.len, f);
            fclose(f);
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rlc_msg m, again;
    rlc_status s = rlc_proto_decode(dec, data, size, &m);
    if (s == RLC_ERR_BAD_MESSAGE) return 0;
    if (s != RLC_OK) abort();
    if (rlc_proto_encode(&m, &buf) != RLC_OK) abort();
    if (rlc_proto_decode(dec2, buf.data, buf.len, &again) != RLC_OK) abort();
    if (!msg_equal(&m, &again)) abort();
    return 0;
}

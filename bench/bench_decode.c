// bench_decode.c: prefill and decode throughput of the CPU decoder.
// Prints prefill tokens/s and decode tokens/s at batch 1 and batch 16 with
// the thread count, for stories260K (real weights, from the shared data)
// and for a random-weight model of the Qwen2.5-0.5B shape (its config.json is
// written by this program and read back through the normal loader).
//
// usage: bench_decode [--threads N] [--data DIR] [--skip-qwen] [--steps N]
#include <stdio.h>   // printf, fopen
#include <stdlib.h>  // atoi
#include <string.h>  // strcmp
#include <unistd.h>  // rmdir

#include "actor/generate.h"
#include "core/core.h"

typedef struct {
    const char *name;
    int prompt_len, steps;
} bench_case;

// Prefill one prompt of `prompt_len` tokens, then decode `steps` tokens for
// `batch` sequences (all prefilled first), and print the rates.
static rlc_status run_case(actor_model *m, const char *name, int batch, int prompt_len, int steps) {
    const actor_config *c = actor_model_config(m);
    actor_gen *g;
    RLC_TRY(actor_gen_create(m, batch, prompt_len + steps + 1, &g));
    int *prompt = rlc_malloc(sizeof(int) * (size_t)prompt_len);
    if (!prompt) {
        actor_gen_free(g);
        return rlc_errorf(RLC_ERR_NOMEM, "bench: prompt");
    }
    rlc_status s = RLC_OK;
    for (int b = 0; b < batch && s == RLC_OK; b++) {
        for (int i = 0; i < prompt_len; i++) prompt[i] = (int)((7919u * (unsigned)(i + 31 * b) + 13u) % (unsigned)c->vocab_size);
        actor_sampling sp = actor_sampling_default();
        sp.temperature = 0.0f;
        sp.max_new_tokens = steps;
        int id;
        s = actor_gen_add(g, prompt, prompt_len, &sp, &id);
    }
    // Tokens that happen to be an eos would end a sequence early; the counts
    // below are what was actually generated.
    int pending = batch;
    while (s == RLC_OK && pending > 0) s = actor_gen_step(g, NULL, NULL, &pending);
    if (s == RLC_OK) {
        long long pt, dt;
        double ps, ds;
        actor_gen_stats(g, &pt, &ps, &dt, &ds);
        printf("%-22s batch %3d  threads %d  prefill %6lld tok in %7.3f s = %9.1f tok/s  "
               "decode %6lld tok in %7.3f s = %8.1f tok/s\n",
               name, batch, kernels_get_threads(), pt, ps, pt / ps, dt, ds, dt / ds);
    }
    rlc_free(prompt);
    actor_gen_free(g);
    return s;
}

static rlc_status write_qwen05_config(const char *dir) {
    char path[512];
    RLC_TRY(rlc_path_join(path, sizeof path, dir, "config.json"));
    FILE *f = fopen(path, "w");
    if (!f) return rlc_errorf(RLC_ERR_IO, "%s: cannot write", path);
    fprintf(f, "{\"model_type\": \"qwen2\", \"architectures\": [\"Qwen2ForCausalLM\"],\n"
               " \"vocab_size\": 151936, \"hidden_size\": 896, \"intermediate_size\": 4864,\n"
               " \"num_hidden_layers\": 24, \"num_attention_heads\": 14, \"num_key_value_heads\": 2,\n"
               " \"max_position_embeddings\": 32768, \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0,\n"
               " \"tie_word_embeddings\": true, \"bos_token_id\": 151643, \"eos_token_id\": 151643}\n");
    fclose(f);
    return RLC_OK;
}

static int report(rlc_status s) {
    if (s == RLC_OK) return 0;
    fprintf(stderr, "bench_decode: %s: %s\n", rlc_status_name(s), rlc_last_error());
    return 1;
}

int main(int argc, char **argv) {
    int threads = 0, skip_qwen = 0, steps = 32;
    const char *data = getenv("RLC_DATA") ? getenv("RLC_DATA") : "../shared/data";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) data = argv[++i];
        else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) steps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--skip-qwen") == 0) skip_qwen = 1;
        else {
            fprintf(stderr, "usage: bench_decode [--threads N] [--data DIR] [--steps N] [--skip-qwen]\n");
            return 2;
        }
    }
    kernels_set_threads(threads);

    char path[512];
    snprintf(path, sizeof path, "%s/models/stories260K/stories260K.bin", data);
    actor_model *m;
    if (report(actor_model_load(path, &m))) return 1;
    int rc = report(run_case(m, "stories260K", 1, 64, 192)) || report(run_case(m, "stories260K", 16, 64, 192));
    actor_model_free(m);
    if (rc || skip_qwen) return rc;

    char dir[] = "/tmp/rlc_bench_qwen05_XXXXXX";
    if (!mkdtemp(dir)) return report(rlc_errorf(RLC_ERR_IO, "mkdtemp failed"));
    actor_config cfg;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (report(write_qwen05_config(dir)) || report(actor_config_load(path, &cfg))) return 1;
    remove(path);
    rmdir(dir);
    if (report(actor_model_create(&cfg, &m))) return 1;
    actor_model_init_random(m, 1234, 0.02f);
    rc = report(run_case(m, "qwen2.5-0.5B-shape", 1, 128, steps)) ||
         report(run_case(m, "qwen2.5-0.5B-shape", 16, 128, steps));
    actor_model_free(m);
    return rc;
}

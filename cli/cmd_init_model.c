// cmd_init_model.c: `rlc init-model --out DIR [...]`: a Llama-architecture
// model created from scratch: config.json, model.safetensors with random
// weights (N(0, std^2), norms 1) and the byte-level tokenizer's files
// (actor/bytetok.h). The folder loads like any Hugging Face checkpoint.
#include <stdio.h>   // printf, fprintf
#include <string.h>  // strcmp

#include "actor/bytetok.h"     // bytetok_write, BYTETOK_*
#include "actor/model.h"       // actor_model_create, actor_model_init_random
#include "actor/tokenizer.h"   // tok_load (the check after writing)
#include "actor/weights.h"     // actor_weights_save
#include "args.h"
#include "commands.h"
#include "core/core.h"          // rlc_last_error, rlc_path_join
#include "learner/checkpoint.h" // ckpt_write_config, ckpt_make_dirs

typedef struct {
    const char *out, *tokenizer;
    actor_config cfg;
    unsigned long long seed;
    double std;
} init_options;

static void usage(void) {
    printf("usage: rlc init-model --out DIR [options]\n\n"
           "Creates a Llama-architecture model from scratch: DIR/config.json, DIR/model.safetensors\n"
           "(float32, weights drawn from N(0, std^2), norm weights 1) and the byte-level tokenizer\n"
           "(DIR/tokenizer.json, DIR/tokenizer_config.json: 256 byte tokens + <|bos|> <|eos|> <|pad|>).\n\n"
           "  --out DIR            output folder (created)\n"
           "  --hidden C           hidden size (default 128)\n"
           "  --layers L           decoder layers (default 4)\n"
           "  --heads H            attention heads (default 4)\n"
           "  --kv-heads KV        key/value heads, dividing H (default 2)\n"
           "  --intermediate I     MLP width (default 384)\n"
           "  --max-position P     max_position_embeddings (default 512)\n"
           "  --rope-theta T       RoPE base (default 10000)\n"
           "  --untied             a separate lm_head (default: tied to the embedding)\n"
           "  --std S              init standard deviation (default 0.02)\n"
           "  --seed S             init seed (default 1)\n"
           "  --tokenizer bytes    the tokenizer (only \"bytes\" for now)\n");
}

static void defaults(init_options *o) {
    memset(o, 0, sizeof *o);
    actor_config *c = &o->cfg;
    c->arch = ACTOR_ARCH_LLAMA;
    snprintf(c->model_type, sizeof c->model_type, "llama");
    c->vocab_size = BYTETOK_VOCAB;
    c->hidden_size = 128;
    c->n_layers = 4;
    c->n_heads = 4;
    c->n_kv_heads = 2;
    c->intermediate_size = 384;
    c->max_position = 512;
    c->rms_eps = 1e-5f;
    c->rope_theta = 10000.0f;
    c->rope_type = ACTOR_ROPE_DEFAULT;
    c->tie_embeddings = 1;
    c->bos_id = BYTETOK_BOS;
    c->eos_ids[0] = BYTETOK_EOS;
    c->n_eos = 1;
    o->tokenizer = "bytes";
    o->seed = 1;
    o->std = 0.02;
}

static int parse(int argc, char **argv, init_options *o) {
    actor_config *c = &o->cfg;
    for (int i = 1; i < argc; i++) {
        int bad = 0;
        long long v = 0;
        double f = 0;
        if (arg_flag(argv, &i, "--help") || arg_flag(argv, &i, "-h")) {
            usage();
            return 1;
        } else if (arg_str(argc, argv, &i, "--out", &o->out, &bad)) {
        } else if (arg_str(argc, argv, &i, "--tokenizer", &o->tokenizer, &bad)) {
        } else if (arg_flag(argv, &i, "--untied")) {
            c->tie_embeddings = 0;
        } else if (arg_int(argc, argv, &i, "--hidden", &v, &bad)) {
            c->hidden_size = (int)v, bad |= v < 1 || v > 65536;
        } else if (arg_int(argc, argv, &i, "--layers", &v, &bad)) {
            c->n_layers = (int)v, bad |= v < 1 || v > 1024;
        } else if (arg_int(argc, argv, &i, "--heads", &v, &bad)) {
            c->n_heads = (int)v, bad |= v < 1 || v > 1024;
        } else if (arg_int(argc, argv, &i, "--kv-heads", &v, &bad)) {
            c->n_kv_heads = (int)v, bad |= v < 1 || v > 1024;
        } else if (arg_int(argc, argv, &i, "--intermediate", &v, &bad)) {
            c->intermediate_size = (int)v, bad |= v < 1 || v > 1 << 20;
        } else if (arg_int(argc, argv, &i, "--max-position", &v, &bad)) {
            c->max_position = (int)v, bad |= v < 2 || v > 1 << 20;
        } else if (arg_float(argc, argv, &i, "--rope-theta", &f, &bad)) {
            c->rope_theta = (float)f, bad |= !(f > 0);
        } else if (arg_float(argc, argv, &i, "--std", &f, &bad)) {
            o->std = f, bad |= !(f >= 0 && f < 10);
        } else if (arg_int(argc, argv, &i, "--seed", &v, &bad)) {
            o->seed = (unsigned long long)v;
        } else {
            fprintf(stderr, "rlc init-model: unexpected argument '%s' (rlc init-model --help)\n", argv[i]);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "rlc init-model: bad or missing value for %s\n", argv[i]);
            return 2;
        }
    }
    if (!o->out) {
        fprintf(stderr, "rlc init-model: --out DIR is required (rlc init-model --help)\n");
        return 2;
    }
    if (strcmp(o->tokenizer, "bytes") != 0) {
        fprintf(stderr, "rlc init-model: unknown tokenizer '%s' (known: bytes)\n", o->tokenizer);
        return 2;
    }
    if (c->hidden_size % c->n_heads != 0) {
        fprintf(stderr, "rlc init-model: --hidden %d is not a multiple of --heads %d\n", c->hidden_size, c->n_heads);
        return 2;
    }
    c->head_dim = c->hidden_size / c->n_heads;
    return 0;
}

// Writes the folder, then loads it back (model and tokenizer) as a check.
static rlc_status write_model(const init_options *o, size_t *n_params) {
    char path[4096];
    actor_model *m = NULL;
    RLC_TRY(actor_config_validate(&o->cfg, "init-model"));
    RLC_TRY(ckpt_make_dirs(o->out));
    RLC_TRY(actor_model_create(&o->cfg, &m));
    actor_model_init_random(m, o->seed, (float)o->std);
    *n_params = actor_model_params(m)->numel;
    rlc_status s = rlc_path_join(path, sizeof path, o->out, "model.safetensors");
    if (s == RLC_OK) s = actor_weights_save(path, actor_model_params(m));
    actor_model_free(m);
    if (s == RLC_OK) s = rlc_path_join(path, sizeof path, o->out, "config.json");
    if (s == RLC_OK) s = ckpt_write_config(path, &o->cfg);
    if (s == RLC_OK) s = bytetok_write(o->out);
    tok_tokenizer *t = NULL;
    if (s == RLC_OK) s = actor_model_load(o->out, &m);
    if (s == RLC_OK) s = tok_load(o->out, &t);
    if (s == RLC_OK && tok_vocab_size(t) != actor_model_config(m)->vocab_size)
        s = rlc_errorf(RLC_ERR_FORMAT, "%s: the tokenizer has %d ids, the model %d", o->out, tok_vocab_size(t),
                       actor_model_config(m)->vocab_size);
    tok_free(t);
    actor_model_free(m);
    return s;
}

int cmd_init_model(int argc, char **argv) {
    init_options o;
    defaults(&o);
    int rc = parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    size_t n_params = 0;
    if (write_model(&o, &n_params) != RLC_OK) {
        fprintf(stderr, "rlc init-model: %s\n", rlc_last_error());
        return 1;
    }
    const actor_config *c = &o.cfg;
    printf("rlc init-model: %s: llama, %zu parameters (hidden %d, %d layers, %d heads, %d kv heads, mlp %d, "
           "vocab %d, %s), std %g, seed %llu; byte-level tokenizer\n",
           o.out, n_params, c->hidden_size, c->n_layers, c->n_heads, c->n_kv_heads, c->intermediate_size,
           c->vocab_size, c->tie_embeddings ? "tied" : "untied", o.std, o.seed);
    return 0;
}

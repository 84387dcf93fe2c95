// test_config.c: model configurations (config.json of each family, errors
// that name the field, RoPE frequencies), the parameter table, and the
// llama2.c checkpoint reader (stories260K, and broken copies of it).
#include <stdint.h>    // int32_t
#include <stdio.h>     // fopen, fwrite
#include <stdlib.h>    // mkdtemp
#include <string.h>    // strstr
#include <unistd.h>    // unlink, rmdir

#include "actor/config.h"   // actor_config_load, actor_config_rope_freqs
#include "actor/llama2c.h"  // actor_llama2c_load, actor_llama2c_detect
#include "actor/params.h"   // actor_params_create, actor_params_find
#include "core/core.h"      // rlc_read_file, rlc_alloc_fail_after
#include "test.h"

// ---- a scratch directory ----------------------------------------------------

static char tmp_dir[64];
static char tmp_files[32][128];
static int n_tmp_files;

static const char *tmp_file(const char *name) {
    char *p = tmp_files[n_tmp_files++];
    snprintf(p, 128, "%s/%s", tmp_dir, name);
    return p;
}

static const char *write_file(const char *name, const void *data, size_t n) {
    const char *p = tmp_file(name);
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(data, 1, n, f) == n);
        fclose(f);
    }
    return p;
}

static const char *write_text(const char *name, const char *text) {
    return write_file(name, text, strlen(text));
}

static void tmp_cleanup(void) {
    for (int i = 0; i < n_tmp_files; i++) unlink(tmp_files[i]);
    rmdir(tmp_dir);
}

// ---- config.json per family -----------------------------------------------------

static const char *LLAMA_UNTIED =
    "{\"model_type\": \"llama\", \"architectures\": [\"LlamaForCausalLM\"],"
    " \"vocab_size\": 32000, \"hidden_size\": 2048, \"num_hidden_layers\": 22,"
    " \"num_attention_heads\": 32, \"num_key_value_heads\": 4, \"intermediate_size\": 5632,"
    " \"rms_norm_eps\": 1e-05, \"max_position_embeddings\": 2048, \"hidden_act\": \"silu\","
    " \"rope_scaling\": null, \"bos_token_id\": 1, \"eos_token_id\": 2, \"torch_dtype\": \"bfloat16\"}";

static void test_llama_untied(void) {
    actor_config c;
    CHECK_OK(actor_config_load(write_text("llama.json", LLAMA_UNTIED), &c));
    CHECK(c.arch == ACTOR_ARCH_LLAMA && strcmp(c.model_type, "llama") == 0);
    CHECK(c.vocab_size == 32000 && c.hidden_size == 2048 && c.n_layers == 22);
    CHECK(c.n_heads == 32 && c.n_kv_heads == 4 && c.head_dim == 64);
    CHECK(c.intermediate_size == 5632 && c.max_position == 2048);
    CHECK(c.rms_eps == 1e-5f && c.rope_theta == 10000.0f && c.rope_type == ACTOR_ROPE_DEFAULT);
    CHECK(c.tie_embeddings == 0 && c.attn_bias == 0 && c.qk_norm == 0);
    CHECK(c.bos_id == 1 && c.n_eos == 1 && c.eos_ids[0] == 2);
    CHECK(actor_config_is_eos(&c, 2) && !actor_config_is_eos(&c, 1));
}

static const char *LLAMA3 =
    "{\"model_type\": \"llama\", \"vocab_size\": 128256, \"hidden_size\": 64,"
    " \"num_hidden_layers\": 2, \"num_attention_heads\": 8, \"num_key_value_heads\": 2,"
    " \"intermediate_size\": 128, \"rms_norm_eps\": 1e-05, \"rope_theta\": 500000.0,"
    " \"max_position_embeddings\": 131072, \"tie_word_embeddings\": true,"
    " \"rope_scaling\": {\"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0,"
    " \"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"},"
    " \"bos_token_id\": 128000, \"eos_token_id\": [128001, 128008, 128009]}";

// llama3 scaling with D = 8, theta = 5e5, factor 8, low 1, high 4, 8192:
// wavelengths 6.28, 167, 4443, 118143 against the band [2048, 8192] give
// kept, kept, blended, divided by 8 (values worked out in float64; the
// float32 steps of transformers land within a few ulps of them).
static void test_llama3_rope(void) {
    actor_config c;
    CHECK_OK(actor_config_load(write_text("llama3.json", LLAMA3), &c));
    CHECK(c.rope_type == ACTOR_ROPE_LLAMA3 && c.rope_factor == 8.0f);
    CHECK(c.rope_low_freq_factor == 1.0f && c.rope_high_freq_factor == 4.0f);
    CHECK(c.rope_original_max_pos == 8192 && c.rope_theta == 500000.0f);
    CHECK(c.tie_embeddings == 1 && c.head_dim == 8 && c.bos_id == 128000);
    CHECK(c.n_eos == 3 && actor_config_is_eos(&c, 128009) && !actor_config_is_eos(&c, 128000));
    float f[4];
    actor_config_rope_freqs(&c, f);
    const double want[4] = {1.0, 0.03760603093086393, 0.0005248461609929547,
                            6.647869871181236e-06};
    for (int i = 0; i < 4; i++)
        CHECK_MSG(fabs(f[i] - want[i]) <= 1e-6 * want[i], "inv_freq[%d] = %.9g, want %.9g", i,
                  f[i], want[i]);
    // Without scaling: 1 / theta^(2i/D).
    c.rope_type = ACTOR_ROPE_DEFAULT;
    actor_config_rope_freqs(&c, f);
    CHECK(f[0] == 1.0f && fabs(f[2] - 0.001414213562373095) < 1e-9);
}

static const char *QWEN2 =
    "{\"model_type\": \"qwen2\", \"vocab_size\": 151936, \"hidden_size\": 896,"
    " \"num_hidden_layers\": 24, \"num_attention_heads\": 14, \"num_key_value_heads\": 2,"
    " \"intermediate_size\": 4864, \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0,"
    " \"max_position_embeddings\": 32768, \"tie_word_embeddings\": true,"
    " \"use_sliding_window\": false, \"sliding_window\": 32768, \"max_window_layers\": 21,"
    " \"bos_token_id\": 151643, \"eos_token_id\": 151643, \"hidden_act\": \"silu\"}";

static void test_qwen2(void) {
    actor_config c;
    CHECK_OK(actor_config_load(write_text("qwen2.json", QWEN2), &c));
    CHECK(c.arch == ACTOR_ARCH_QWEN2 && c.attn_bias == 1 && c.qk_norm == 0);
    CHECK(c.hidden_size == 896 && c.n_heads == 14 && c.n_kv_heads == 2 && c.head_dim == 64);
    CHECK(c.rms_eps == 1e-6f && c.rope_theta == 1e6f && c.tie_embeddings == 1);
    CHECK(c.n_eos == 1 && c.eos_ids[0] == 151643);
}

static const char *QWEN3 =
    "{\"model_type\": \"qwen3\", \"vocab_size\": 151936, \"hidden_size\": 1024,"
    " \"num_hidden_layers\": 28, \"num_attention_heads\": 16, \"num_key_value_heads\": 8,"
    " \"head_dim\": 128, \"intermediate_size\": 3072, \"rms_norm_eps\": 1e-06,"
    " \"rope_theta\": 1000000, \"max_position_embeddings\": 40960, \"attention_bias\": false,"
    " \"tie_word_embeddings\": true, \"bos_token_id\": 151643, \"eos_token_id\": 151645}";

static void test_qwen3(void) {
    actor_config c;
    CHECK_OK(actor_config_load(write_text("qwen3.json", QWEN3), &c));
    CHECK(c.arch == ACTOR_ARCH_QWEN3 && c.qk_norm == 1 && c.attn_bias == 0);
    CHECK(c.head_dim == 128 && c.n_heads * c.head_dim == 2048 && c.hidden_size == 1024);
    CHECK(c.rope_theta == 1e6f && c.max_position == 40960);
}

// A config that fails with `code` and a message holding `needle`.
static void expect_config_error(const char *name, const char *json, rlc_status code,
                                const char *needle) {
    actor_config c;
    const char *path = write_text(name, json);
    rlc_status s = actor_config_load(path, &c);
    CHECK_MSG(s == code, "%s: got %s (%s)", name, rlc_status_name(s), rlc_last_error());
    CHECK_MSG(strstr(rlc_last_error(), needle) != NULL, "%s: message \"%s\" lacks \"%s\"", name,
              rlc_last_error(), needle);
    CHECK_MSG(strstr(rlc_last_error(), name) != NULL, "%s: message \"%s\" lacks the file", name,
              rlc_last_error());
}

static void test_config_errors(void) {
    expect_config_error("missing.json",
                        "{\"model_type\": \"llama\", \"vocab_size\": 10, \"num_hidden_layers\": 1,"
                        " \"num_attention_heads\": 2, \"intermediate_size\": 8}",
                        RLC_ERR_CONFIG, "\"hidden_size\"");
    expect_config_error("mistyped.json",
                        "{\"model_type\": \"llama\", \"vocab_size\": 10, \"hidden_size\": 8,"
                        " \"num_hidden_layers\": \"two\", \"num_attention_heads\": 2,"
                        " \"intermediate_size\": 8}",
                        RLC_ERR_CONFIG, "\"num_hidden_layers\"");
    expect_config_error("unknown_type.json", "{\"model_type\": \"gpt2\", \"vocab_size\": 10}",
                        RLC_ERR_CONFIG, "gpt2");
    expect_config_error("no_type.json", "{\"vocab_size\": 10}", RLC_ERR_CONFIG, "model_type");
    expect_config_error("yarn.json",
                        "{\"model_type\": \"qwen2\", \"vocab_size\": 10, \"hidden_size\": 8,"
                        " \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
                        " \"intermediate_size\": 8, \"rope_scaling\": {\"type\": \"yarn\","
                        " \"factor\": 4.0}}",
                        RLC_ERR_UNSUPPORTED, "yarn");
    expect_config_error("kv_heads.json",
                        "{\"model_type\": \"llama\", \"vocab_size\": 10, \"hidden_size\": 8,"
                        " \"num_hidden_layers\": 1, \"num_attention_heads\": 4,"
                        " \"num_key_value_heads\": 3, \"intermediate_size\": 8}",
                        RLC_ERR_CONFIG, "num_key_value_heads");
    expect_config_error("llama3_missing.json",
                        "{\"model_type\": \"llama\", \"vocab_size\": 10, \"hidden_size\": 8,"
                        " \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
                        " \"intermediate_size\": 8, \"rope_scaling\": {\"rope_type\": \"llama3\","
                        " \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0}}",
                        RLC_ERR_CONFIG, "original_max_position_embeddings");
    expect_config_error("not_json.json", "{\"model_type\": ", RLC_ERR_FORMAT, "invalid JSON");
    actor_config c;
    CHECK(actor_config_load("/nonexistent/config.json", &c) == RLC_ERR_IO);
}

// ---- the parameter table --------------------------------------------------------------

static void check_table(const actor_params *p) {
    size_t end = 0;
    for (int i = 0; i < p->n_tensors; i++) {
        const actor_tensor_info *e = &p->tensors[i];
        CHECK_MSG(e->offset % 16 == 0, "%s at %zu", e->name, e->offset);
        CHECK_MSG(e->offset >= end, "%s overlaps the previous tensor", e->name);
        CHECK(e->numel == (size_t)e->shape[0] * (size_t)e->shape[1]);
        end = e->offset + e->numel;
    }
    CHECK(end <= p->numel);
}

static void test_params(void) {
    actor_config c;
    CHECK_OK(actor_config_load(write_text("qwen2_small.json",
        "{\"model_type\": \"qwen2\", \"vocab_size\": 50, \"hidden_size\": 12,"
        " \"num_hidden_layers\": 3, \"num_attention_heads\": 6, \"num_key_value_heads\": 2,"
        " \"intermediate_size\": 20, \"tie_word_embeddings\": true}"), &c));
    actor_params p;
    CHECK_OK(actor_params_create(&c, &p));
    CHECK(p.n_tensors == 2 + 3 * 12);
    check_table(&p);
    CHECK(p.lm_head == p.embed && actor_params_find(&p, "lm_head.weight") == NULL);
    const actor_tensor_info *bk = actor_params_find(&p, "model.layers.2.self_attn.k_proj.bias");
    CHECK(bk && bk->ndim == 1 && bk->shape[0] == 4);
    CHECK(bk && p.layers[2].bk == p.data + bk->offset);
    CHECK(p.layers[1].q_norm == NULL && p.layers[1].bq != NULL);
    actor_params_free(&p);

    actor_config q3;
    CHECK_OK(actor_config_load(write_text("qwen3_small.json",
        "{\"model_type\": \"qwen3\", \"vocab_size\": 50, \"hidden_size\": 12,"
        " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
        " \"head_dim\": 6, \"intermediate_size\": 20}"), &q3));
    CHECK_OK(actor_params_create(&q3, &p));
    CHECK(p.n_tensors == 3 + 2 * 11);
    check_table(&p);
    const actor_tensor_info *o = actor_params_find(&p, "model.layers.1.self_attn.o_proj.weight");
    CHECK(o && o->shape[0] == 12 && o->shape[1] == 24);
    const actor_tensor_info *qn = actor_params_find(&p, "model.layers.0.self_attn.q_norm.weight");
    CHECK(qn && qn->shape[0] == 6 && p.layers[0].q_norm == p.data + qn->offset);
    const actor_tensor_info *lm = actor_params_find(&p, "lm_head.weight");
    CHECK(lm && p.lm_head == p.data + lm->offset && p.lm_head != p.embed);
    CHECK(p.layers[0].bq == NULL);
    actor_params_free(&p);

    // Every allocation failing in turn gives RLC_ERR_NOMEM, never a crash.
    for (long k = 0; k < 4; k++) {
        rlc_alloc_fail_after(k);
        rlc_status s = actor_params_create(&q3, &p);
        rlc_alloc_fail_after(-1);
        CHECK(s == RLC_OK || s == RLC_ERR_NOMEM);
        if (s == RLC_OK) actor_params_free(&p);
    }
}

// ---- llama2.c checkpoints ------------------------------------------------------------

static void test_stories260k(const char *path) {
    CHECK(actor_llama2c_detect(path) == 1);
    actor_config c;
    actor_params p;
    CHECK_OK(actor_llama2c_load(path, &c, &p));
    CHECK(c.hidden_size == 64 && c.intermediate_size == 172 && c.n_layers == 5);
    CHECK(c.n_heads == 8 && c.n_kv_heads == 4 && c.vocab_size == 512 && c.head_dim == 8);
    CHECK(c.max_position == 512 && c.tie_embeddings == 1 && c.bos_id == 1);
    CHECK(actor_config_is_eos(&c, 1) && actor_config_is_eos(&c, 2));
    CHECK(p.lm_head == p.embed);

    // The file's own floats: wq of layer 0 starts after the embedding (V*C)
    // and rms_att (L*C); row 2i+j of each head must land on row j*D/2+i.
    char *raw;
    size_t len;
    CHECK_OK(rlc_read_file(path, &raw, &len));
    const float *w = (const float *)(raw + 28);
    CHECK(memcmp(p.embed, w, 512 * 64 * sizeof(float)) == 0);
    const float *wq0 = w + 512 * 64 + 5 * 64;
    int bad = 0;
    for (int h = 0; h < 8; h++)
        for (int r = 0; r < 8; r++) {
            int to = (r % 2) * 4 + r / 2;
            if (memcmp(p.layers[0].wq + (h * 8 + to) * 64, wq0 + (h * 8 + r) * 64, 64 * 4) != 0)
                bad++;
        }
    CHECK_MSG(bad == 0, "%d permuted wq rows differ", bad);
    // rms_final: the last C floats before freq_cis (seq_len * D).
    const float *rms_final = (const float *)(raw + len) - 512 * 8 - 64;
    CHECK(memcmp(p.final_norm, rms_final, 64 * sizeof(float)) == 0);

    // Broken copies fail with RLC_ERR_FORMAT naming the file.
    const char *trunc = write_file("truncated.bin", raw, len - 4);
    actor_params q;
    rlc_status s = actor_llama2c_load(trunc, &c, &q);
    CHECK_MSG(s == RLC_ERR_FORMAT && strstr(rlc_last_error(), "truncated.bin"), "%s: %s",
              rlc_status_name(s), rlc_last_error());
    CHECK(actor_llama2c_detect(trunc) == 0);
    int32_t bad_layers = -5;
    memcpy(raw + 8, &bad_layers, 4);
    s = actor_llama2c_load(write_file("negative.bin", raw, len), &c, &q);
    CHECK_MSG(s == RLC_ERR_FORMAT && strstr(rlc_last_error(), "negative.bin"), "%s: %s",
              rlc_status_name(s), rlc_last_error());
    s = actor_llama2c_load(write_file("tiny.bin", raw, 10), &c, &q);
    CHECK(s == RLC_ERR_FORMAT);
    CHECK(actor_llama2c_load("/nonexistent.bin", &c, &q) == RLC_ERR_IO);
    CHECK(actor_llama2c_detect(tmp_dir) == 0);
    rlc_free(raw);
    actor_params_free(&p);
}

int main(void) {
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/rlc_test_config_XXXXXX");
    if (!mkdtemp(tmp_dir)) TEST_SKIP("cannot create a temporary directory");
    test_llama_untied();
    test_llama3_rope();
    test_qwen2();
    test_qwen3();
    test_config_errors();
    test_params();
    char path[512];
    test_data(path, sizeof path, "models/stories260K/stories260K.bin");
    if (rlc_file_exists(path))
        test_stories260k(path);
    else
        printf("stories260K not found at %s: its checks skipped\n", path);
    tmp_cleanup();
    return test_finish("test_config");
}

// test_rl_chat.c: the RL loop on the path real instruct checkpoints take:
// scripts/experiments/gsm8k_grpo.lua as shipped (GSM8K data, the Lua prompt
// script returning chat messages, the Qwen2.5 tokenizer and its ChatML
// template, the k3 KL to a frozen reference, the GSM8K reward, held-out
// evaluation), on a tiny random Qwen2-shaped model with the real 151,936-id
// vocabulary that the test writes (config.json, model.safetensors and the
// tokenizer files of ../shared/data). Two steps must run and log, and the
// checkpoint must reload.
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/model.h"
#include "actor/weights.h"
#include "core/core.h"
#include "learner/checkpoint.h"
#include "test.h"

static int copy_file(const char *from, const char *to) {
    char *buf;
    size_t len;
    if (rlc_read_file(from, &buf, &len) != RLC_OK) return 0;
    FILE *f = fopen(to, "wb");
    int ok = f && fwrite(buf, 1, len, f) == len;
    if (f) fclose(f);
    rlc_free(buf);
    return ok;
}

int main(void) {
    char dir[] = "/tmp/rlc_test_rl_chat_XXXXXX", path[1200], from[1200];
    if (!mkdtemp(dir)) return 1;
    actor_config c = {.arch = ACTOR_ARCH_QWEN2, .vocab_size = 151936, .hidden_size = 32, .n_layers = 1, .n_heads = 2,
                      .n_kv_heads = 1, .head_dim = 16, .intermediate_size = 64, .max_position = 2048, .rms_eps = 1e-6f,
                      .rope_theta = 1e6f, .tie_embeddings = 1, .attn_bias = 1, .bos_id = 151643, .n_eos = 1};
    c.eos_ids[0] = 151645;
    snprintf(c.model_type, sizeof c.model_type, "qwen2");
    actor_model *m = NULL;
    CHECK_OK(actor_model_create(&c, &m));
    if (!m) return test_finish("test_rl_chat");
    actor_model_init_random(m, 3, 0.05f);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK_OK(actor_weights_save(path, actor_model_params(m)));
    snprintf(path, sizeof path, "%s/config.json", dir);
    CHECK_OK(ckpt_write_config(path, &c));
    actor_model_free(m);
    const char *files[] = {"vocab.json", "merges.txt", "tokenizer_config.json"};
    for (int i = 0; i < 3; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "tokenizers/qwen2.5/%s", files[i]);
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        CHECK_MSG(copy_file(test_data(from, sizeof from, rel), path), "cannot copy %s", from);
    }
    if (chdir(getenv("RLC_SOURCE") ? getenv("RLC_SOURCE") : ".") != 0) return 1;
    const char *bin = getenv("RLC_BIN") ? getenv("RLC_BIN") : "./rlc";
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s train scripts/experiments/gsm8k_grpo.lua --quiet --threads 2 --set model.path=%s "
             "--set algorithm.steps=2 --set algorithm.batch_prompts=2 --set algorithm.group_size=2 "
             "--set algorithm.minibatch_prompts=2 --set sampling.max_new_tokens=12 --set eval.n=4 "
             "--set eval.max_new_tokens=8 --set rollout.slots=8 --set output.dir=%s/run > %s/train.log 2>&1",
             bin, dir, dir, dir);
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "rlc train exited %d (log: %s/train.log)", rc, dir);
    snprintf(path, sizeof path, "%s/run/metrics.jsonl", dir);
    FILE *f = fopen(path, "r");
    int lines = 0, kl_seen = 0;
    char line[8192];
    while (f && fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j) continue;
        lines++;
        kl_seen |= json_object_get(j, "kl") != NULL;
        CHECK(json_integer_value(json_object_get(j, "trajectories")) == 4);
        json_decref(j);
    }
    if (f) fclose(f);
    CHECK_MSG(lines == 2, "%d metric lines, expected 2", lines);
    CHECK(kl_seen);
    snprintf(path, sizeof path, "%s/run/summary.json", dir);
    CHECK_MSG(rlc_file_exists(path), "no %s: the held-out evaluation did not run", path);
    snprintf(path, sizeof path, "%s/run/checkpoints/step-2", dir);
    actor_model *back = NULL;
    CHECK_OK(actor_model_load(path, &back));
    actor_model_free(back);
    if (!test_failures) {
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    return test_finish("test_rl_chat");
}

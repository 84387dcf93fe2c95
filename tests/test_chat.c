// test_chat.c: the chat templates. The Qwen2.5 and Qwen3 renderings are checked
// against transformers' apply_chat_template (tests/data/tokenizer/chat.jsonl,
// written by scripts/make_tokenizer_fixtures.py), text and token ids; the
// Llama-3 and plain templates, detection and naming against hand-written
// expectations.
#include <string.h>  // strcmp, strstr

#include "actor/chat.h"
#include "actor/tokenizer.h"
#include "core/core.h"
#include "test.h"

#define MAX_MSGS 16

// Renders a fixture row with template t and compares text and ids.
static int check_row(const chat_template *t, const tok_tokenizer *tok, const json_t *row) {
    const json_t *jm = json_object_get(row, "messages");
    chat_message msgs[MAX_MSGS];
    size_t n = json_array_size(jm);
    if (n > MAX_MSGS) return 0;
    for (size_t i = 0; i < n; i++) {
        msgs[i].role = json_string_value(json_object_get(json_array_get(jm, i), "role"));
        msgs[i].content = json_string_value(json_object_get(json_array_get(jm, i), "content"));
    }
    char *text;
    size_t len;
    int gen = json_is_true(json_object_get(row, "add_generation_prompt"));
    CHECK_OK(chat_render(t, msgs, n, gen, &text, &len));
    if (!text) return 0;
    const char *want = json_string_value(json_object_get(row, "text"));
    int ok = strcmp(text, want) == 0;
    if (!ok) fprintf(stderr, "%s rendering differs:\n--- want\n%s\n--- got\n%s\n---\n", chat_template_name(t), want, text);
    int *ids;
    size_t n_ids;
    CHECK_OK(tok_encode(tok, text, len, 0, &ids, &n_ids));
    const json_t *want_ids = json_object_get(row, "ids");
    int same_ids = ids && json_array_size(want_ids) == n_ids;
    for (size_t i = 0; same_ids && i < n_ids; i++) same_ids = json_integer_value(json_array_get(want_ids, i)) == ids[i];
    CHECK_MSG(same_ids, "%s: the ids of the rendering differ", chat_template_name(t));
    rlc_free(ids);
    rlc_free(text);
    return ok && same_ids;
}

// The chat_template string of a tokenizer_config.json (new string, rlc_free).
static char *read_template(const char *path) {
    json_t *cfg;
    char *text;
    size_t len;
    if (rlc_read_file(path, &text, &len) != RLC_OK) return NULL;
    json_error_t err;
    cfg = json_loadb(text, len, JSON_DECODE_INT_AS_REAL, &err);
    rlc_free(text);
    const char *s = json_string_value(json_object_get(cfg, "chat_template"));
    char *copy = s ? rlc_strdup(s) : NULL;
    json_decref(cfg);
    return copy;
}

static void test_fixtures(const tok_tokenizer *qwen, const char *qwen3_config) {
    chat_template *q25 = NULL, *q3 = NULL;
    CHECK_OK(chat_template_for(qwen, NULL, &q25));
    CHECK_MSG(q25 && strcmp(chat_template_name(q25), "qwen2.5") == 0, "detected %s",
              q25 ? chat_template_name(q25) : "nothing");
    char *jinja3 = read_template(qwen3_config);
    CHECK(jinja3 != NULL);
    if (jinja3) CHECK_OK(chat_template_detect(jinja3, &q3));
    CHECK(q3 && strcmp(chat_template_name(q3), "qwen3") == 0);
    rlc_free(jinja3);
    if (!q25 || !q3) return;

    char path[4096];
    char *text;
    size_t len;
    test_source(path, sizeof path, "tests/data/tokenizer/chat.jsonl");
    CHECK_OK(rlc_read_file(path, &text, &len));
    int rows = 0, matched[2] = {0, 0}, counts[2] = {0, 0};
    for (char *p = text, *end = text ? text + len : NULL; text && p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        json_error_t err;
        json_t *row = json_loadb(p, n, 0, &err);
        p += n + 1;
        if (!row) continue;
        if (rows++ == 0) {
            const char *fmt = json_string_value(json_object_get(row, "format"));
            CHECK_MSG(fmt && strcmp(fmt, "rlc-chat-fixture") == 0 &&
                          json_integer_value(json_object_get(row, "version")) == 1,
                      "%s: unexpected header (regenerate with scripts/make_tokenizer_fixtures.py)", path);
        } else {
            const char *name = json_string_value(json_object_get(row, "template"));
            int k = name && strcmp(name, "qwen3") == 0;
            counts[k]++;
            matched[k] += check_row(k ? q3 : q25, qwen, row);
        }
        json_decref(row);
    }
    rlc_free(text);
    printf("qwen2.5: %d/%d renderings match transformers; qwen3: %d/%d\n", matched[0], counts[0], matched[1],
           counts[1]);
    CHECK(counts[0] > 0 && matched[0] == counts[0]);
    CHECK(counts[1] > 0 && matched[1] == counts[1]);
    chat_template_free(q25);
    chat_template_free(q3);
}

static void expect_render(const char *name, const chat_message *msgs, size_t n, int gen, const char *want) {
    chat_template *t = NULL;
    CHECK_OK(chat_template_from_name(name, &t));
    if (!t) return;
    char *text;
    size_t len;
    CHECK_OK(chat_render(t, msgs, n, gen, &text, &len));
    CHECK_MSG(text && strcmp(text, want) == 0 && len == strlen(want), "%s: got\n%s\nwant\n%s", name,
              text ? text : "(null)", want);
    rlc_free(text);
    chat_template_free(t);
}

static void test_builtins(void) {
    chat_message conv[] = {{"system", "Be brief."}, {"user", "  What is 2+2?\n"}, {"assistant", "4"}};
    expect_render("llama3", conv, 3, 1,
                  "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                  "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
                  "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>"
                  "<|start_header_id|>assistant<|end_header_id|>\n\n");
    expect_render("plain", conv, 3, 1, "system: Be brief.\nuser:   What is 2+2?\n\nassistant: 4\nassistant: ");
    expect_render("chatml", conv + 1, 1, 0, "<|im_start|>user\n  What is 2+2?\n<|im_end|>\n");
    expect_render("chatml", NULL, 0, 1, "<|im_start|>assistant\n");
    expect_render("qwen2.5", conv + 1, 1, 1,
                  "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
                  "<|im_end|>\n<|im_start|>user\n  What is 2+2?\n<|im_end|>\n<|im_start|>assistant\n");

    chat_template *t = NULL;
    CHECK(chat_template_from_name("vicuna", &t) == RLC_ERR_ARG && t == NULL);
    CHECK(strstr(rlc_last_error(), "vicuna") && strstr(rlc_last_error(), "chatml"));
    CHECK(chat_template_detect("{% for m in messages %}{{ m.content }}{% endfor %}", &t) == RLC_ERR_UNSUPPORTED);
    CHECK_OK(chat_template_detect("{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m.role }}"
                                  "<|end_header_id|>\n\n{{ m.content | trim }}<|eot_id|>{% endfor %}", &t));
    CHECK(t && strcmp(chat_template_name(t), "llama3") == 0);
    chat_template_free(t);
    // A ChatML template with its own default system message (SmolLM2's style).
    CHECK_OK(chat_template_detect("{% if messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are "
                                  "SmolLM.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] }}", &t));
    CHECK(t && strcmp(chat_template_name(t), "chatml") == 0 && chat_template_default_system(t) &&
          strcmp(chat_template_default_system(t), "You are SmolLM.") == 0);
    chat_template_free(t);
    chat_template *q = NULL;
    CHECK_OK(chat_template_from_name("qwen2.5", &q));
    char *text;
    size_t len;
    chat_message bad = {"user", NULL};
    CHECK(q && chat_render(q, &bad, 1, 1, &text, &len) == RLC_ERR_ARG && text == NULL);
    CHECK(q && chat_render(q, NULL, 0, 1, &text, &len) == RLC_ERR_ARG);
    chat_template_free(q);
}

int main(void) {
    char path[4096], qwen3[4096];
    tok_tokenizer *qwen = NULL, *llama = NULL;
    test_builtins();
    if (!rlc_file_exists(test_data(path, sizeof path, "tokenizers/qwen2.5/vocab.json"))) {
        printf("SKIP: no shared data at %s (built-in templates checked)\n", path);
        return test_failures ? 1 : 77;
    }
    CHECK_OK(tok_load(test_data(path, sizeof path, "tokenizers/qwen2.5"), &qwen));
    CHECK_OK(tok_load(test_data(path, sizeof path, "tokenizers/llama2"), &llama));
    if (qwen) test_fixtures(qwen, test_data(qwen3, sizeof qwen3, "tokenizers/qwen2.5/tokenizer_config.qwen3.json"));
    chat_template *t = NULL;
    CHECK_OK(chat_template_for(llama, NULL, &t));  // Llama-2's config has no chat_template
    CHECK(t && strcmp(chat_template_name(t), "plain") == 0);
    chat_template_free(t);
    CHECK_OK(chat_template_for(llama, "llama3", &t));
    CHECK(t && strcmp(chat_template_name(t), "llama3") == 0);
    chat_template_free(t);
    tok_free(qwen);
    tok_free(llama);
    return test_finish("test_chat");
}

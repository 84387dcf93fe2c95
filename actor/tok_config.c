// tok_config.c: the files around a tokenizer: tokenizer_config.json (bos/eos,
// add_bos, the chat template, and the added tokens of the slow-tokenizer form),
// chat_template.jinja and generation_config.json; and the vocab.json +
// merges.txt form, built with the settings the fast tokenizer would have
// (Qwen2: NFC, the Qwen2 split regex, ByteLevel without its own regex; GPT-2:
// ByteLevel with the GPT-2 regex).
#include <stdlib.h>  // strtol
#include <string.h>  // strcmp, strlen, strstr, memchr

#include "core/alloc.h"   // rlc_free
#include "core/fileio.h"  // rlc_read_file, rlc_file_exists, rlc_path_join
#include "core/json.h"    // rlc_json_load_file
#include "tok_internal.h"

// The Qwen2 pre-tokenizer regex: like Llama-3's, but digits one at a time.
static const char QWEN2_PATTERN[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// An optional JSON file: *out is NULL when the file does not exist. Integers
// are read as reals: configs hold numbers past 64 bits (Llama-2's
// model_max_length is 1e30 written as an integer).
static rlc_status load_optional(const char *dir, const char *name, json_t **out) {
    char path[4096];
    *out = NULL;
    RLC_TRY(rlc_path_join(path, sizeof path, dir, name));
    if (!rlc_file_exists(path)) return RLC_OK;
    char *text;
    size_t len;
    RLC_TRY(rlc_read_file(path, &text, &len));
    json_error_t err;
    *out = json_loadb(text, len, JSON_DECODE_INT_AS_REAL, &err);
    rlc_free(text);
    if (!*out) return rlc_errorf(RLC_ERR_FORMAT, "%s:%d:%d: invalid JSON: %s", path, err.line, err.column, err.text);
    return RLC_OK;
}

// A token given as "text" or as {"content": "text", ...}.
static const char *token_content(const json_t *v) {
    if (json_is_string(v)) return json_string_value(v);
    const json_t *c = json_object_get(v, "content");
    return json_is_string(c) ? json_string_value(c) : NULL;
}

static void add_eos(tok_tokenizer *t, int id) {
    if (id < 0 || id >= t->n_vocab || tok_is_eos(t, id) || t->n_eos == TOK_MAX_EOS) return;
    t->eos_ids[t->n_eos++] = id;
}

// chat_template: a string, or a list of {"name", "template"} (the "default" one).
static rlc_status read_chat_template(tok_tokenizer *t, const json_t *v) {
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item) {
        const char *name = json_string_value(json_object_get(item, "name"));
        if (!s || (name && strcmp(name, "default") == 0)) s = json_string_value(json_object_get(item, "template"));
    }
    if (!s) return RLC_OK;
    t->chat_template = rlc_arena_strndup(t->arena, s, strlen(s));
    return t->chat_template ? RLC_OK : rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
}

static rlc_status read_jinja_file(tok_tokenizer *t, const char *dir) {
    char path[4096];
    RLC_TRY(rlc_path_join(path, sizeof path, dir, "chat_template.jinja"));
    if (!rlc_file_exists(path)) return RLC_OK;
    char *text;
    size_t len;
    RLC_TRY(rlc_read_file(path, &text, &len));
    t->chat_template = rlc_arena_strndup(t->arena, text, len);
    rlc_free(text);
    return t->chat_template ? RLC_OK : rlc_errorf(RLC_ERR_NOMEM, "tokenizer: out of memory");
}

// Without tokenizer_config.json: BOS from the post-processor, EOS by name.
static void guess_specials(tok_tokenizer *t) {
    if (t->bos_id < 0 && t->n_prefix > 0) t->bos_id = t->prefix[0];
    static const char *eos_names[] = {"</s>", "<|end_of_text|>", "<|endoftext|>", "<|im_end|>"};
    for (int i = 0; i < 4 && t->n_eos == 0; i++) add_eos(t, tok_piece_to_id(t, eos_names[i]));
}

rlc_status tok_apply_configs(tok_tokenizer *t, const char *dir) {
    json_t *cfg, *gen;
    RLC_TRY(load_optional(dir, "tokenizer_config.json", &cfg));
    rlc_status st = RLC_OK;
    if (cfg) {
        const char *bos = token_content(json_object_get(cfg, "bos_token"));
        const char *eos = token_content(json_object_get(cfg, "eos_token"));
        if (bos) t->bos_id = tok_piece_to_id(t, bos);
        if (eos) add_eos(t, tok_piece_to_id(t, eos));
        int add_bos = json_is_true(json_object_get(cfg, "add_bos_token"));
        int add_eos_flag = json_is_true(json_object_get(cfg, "add_eos_token"));
        if (t->n_prefix == 0 && t->n_suffix == 0) {  // no post-processor: the config decides
            if (add_bos && t->bos_id >= 0) t->prefix[t->n_prefix++] = t->bos_id;
            if (add_eos_flag && t->n_eos > 0) t->suffix[t->n_suffix++] = t->eos_ids[0];
        }
        st = read_chat_template(t, json_object_get(cfg, "chat_template"));
        json_decref(cfg);
    }
    if (st == RLC_OK && !t->chat_template) st = read_jinja_file(t, dir);
    if (st == RLC_OK) st = load_optional(dir, "generation_config.json", &gen);
    if (st == RLC_OK && gen) {
        const json_t *e = json_object_get(gen, "eos_token_id");
        size_t i;
        const json_t *id;
        if (json_is_number(e)) add_eos(t, (int)json_number_value(e));
        json_array_foreach(e, i, id) add_eos(t, (int)json_number_value(id));
        json_decref(gen);
    }
    if (st != RLC_OK) return st;
    guess_specials(t);
    t->add_bos = t->n_prefix > 0 && t->bos_id >= 0 && t->prefix[0] == t->bos_id;
    for (int i = 0; i < t->n_eos; i++) t->tokens[t->eos_ids[i]].attr |= TOK_ATTR_SPECIAL;
    if (t->bos_id >= 0) t->tokens[t->bos_id].attr |= TOK_ATTR_SPECIAL;
    return RLC_OK;
}

// ---- vocab.json + merges.txt ---------------------------------------------------------

static rlc_status read_merges_txt(tok_tokenizer *t, const char *path) {
    char *text;
    size_t len;
    RLC_TRY(rlc_read_file(path, &text, &len));
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    rlc_status st = tok_mergemap_init(&t->merges, lines);
    int rank = 0;
    for (char *p = text, *end = text + len; st == RLC_OK && p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        size_t n = (size_t)(e - p);
        if (n > 0 && p[n - 1] == '\r') n--;
        if (n > 0 && !(rank == 0 && strncmp(p, "#version", 8) == 0)) st = tok_add_merge_string(t, p, n, rank++, path);
        p = e + 1;
    }
    rlc_free(text);
    return st;
}

// added_tokens_decoder: {"151643": {"content": ..., "special": true, ...}, ...}
static rlc_status read_added_decoder(tok_tokenizer *t, const json_t *dec, const char *what) {
    const char *key;
    const json_t *a;
    json_object_foreach((json_t *)dec, key, a) {
        char *end;
        long id = strtol(key, &end, 10);
        const char *content = token_content(a);
        if (*end || id < 0 || id > (1 << 24) || !content)
            return rlc_errorf(RLC_ERR_FORMAT, "%s: added_tokens_decoder entry \"%s\" is malformed", what, key);
        const json_t *norm = json_object_get(a, "normalized");
        RLC_TRY(tok_add_token(t, (int)id, content, strlen(content), json_is_true(json_object_get(a, "special")),
                              json_is_true(json_object_get(a, "lstrip")), json_is_true(json_object_get(a, "rstrip")),
                              norm ? json_is_true(norm) : 0, json_is_true(json_object_get(a, "single_word"))));
    }
    return RLC_OK;
}

static rlc_status build_vocab_merges(tok_tokenizer *t, const char *dir, const json_t *cfg) {
    char path[4096];
    const char *cls = cfg ? json_string_value(json_object_get(cfg, "tokenizer_class")) : NULL;
    int gpt2 = cls && strstr(cls, "GPT2") != NULL;
    if (cls && !gpt2 && !strstr(cls, "Qwen2"))
        return rlc_errorf(RLC_ERR_UNSUPPORTED,
                          "%s: tokenizer_class \"%s\" with vocab.json + merges.txt is not supported (Qwen2 or GPT-2 only)",
                          dir, cls);
    RLC_TRY(rlc_path_join(path, sizeof path, dir, "vocab.json"));
    json_t *vocab;
    RLC_TRY(rlc_json_load_file(path, &vocab));
    rlc_status st = tok_read_vocab_json(t, vocab, path);
    json_decref(vocab);
    RLC_TRY(st);
    RLC_TRY(rlc_path_join(path, sizeof path, dir, "merges.txt"));
    RLC_TRY(read_merges_txt(t, path));
    if (gpt2) {
        RLC_TRY(tok_add_bytelevel(t, json_is_true(json_object_get(cfg, "add_prefix_space")), 1, dir));
    } else {
        t->norm[t->n_norm++] = (tok_norm_step){.kind = TOK_NORM_NFC};
        RLC_TRY(tok_add_split(t, QWEN2_PATTERN, strlen(QWEN2_PATTERN), 0, TOK_SPLIT_ISOLATED, 0, dir));
    }
    const json_t *dec = cfg ? json_object_get(cfg, "added_tokens_decoder") : NULL;
    if (dec) RLC_TRY(read_added_decoder(t, dec, "tokenizer_config.json"));
    RLC_TRY(tok_finish_added(t));
    return tok_finish_texts(t, NULL, NULL, 0, 1);
}

rlc_status tok_load_vocab_merges(const char *dir, tok_tokenizer **out) {
    json_t *cfg;
    RLC_TRY(load_optional(dir, "tokenizer_config.json", &cfg));
    tok_tokenizer *t = NULL;
    rlc_status st = tok_new(TOK_KIND_BYTE_LEVEL, &t);
    if (st == RLC_OK) st = build_vocab_merges(t, dir, cfg);
    json_decref(cfg);
    if (st != RLC_OK) {
        tok_free(t);
        return st;
    }
    *out = t;
    return RLC_OK;
}

// tok_load.c: tok_load's dispatch on the path, and the Hugging Face
// tokenizer.json reader: the BPE model, added tokens, normalizer,
// pre-tokenizer, decoder and post-processor sections. Unknown types are
// RLC_ERR_UNSUPPORTED errors that name the file and the type.
#include <stdio.h>   // snprintf, fopen
#include <string.h>  // strcmp, strlen, strrchr, memchr

#include "core/alloc.h"   // rlc_free
#include "core/fileio.h"  // rlc_is_dir, rlc_file_exists, rlc_path_join
#include "core/json.h"    // rlc_json_load_file
#include "tok_internal.h"

// ---- small JSON helpers ------------------------------------------------------------

static const char *str_field(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int bool_field(const json_t *o, const char *key, int def) {
    const json_t *v = json_object_get(o, key);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

static const char *type_of(const json_t *o) {
    const char *s = str_field(o, "type");
    return s ? s : "(no type)";
}

// A {"String": s} or {"Regex": r} pattern; *literal says which.
static rlc_status pattern_of(const json_t *o, const char *what, const char **pat, size_t *len, int *literal) {
    const json_t *p = json_object_get(o, "pattern");
    const json_t *s = json_object_get(p, "String"), *r = json_object_get(p, "Regex");
    if (json_is_string(s)) *pat = json_string_value(s), *len = json_string_length(s), *literal = 1;
    else if (json_is_string(r)) *pat = json_string_value(r), *len = json_string_length(r), *literal = 0;
    else return rlc_errorf(RLC_ERR_FORMAT, "%s: a pattern needs \"String\" or \"Regex\"", what);
    return RLC_OK;
}

static const char *arena_str(tok_tokenizer *t, const char *s) {
    return s ? rlc_arena_strndup(t->arena, s, strlen(s)) : NULL;
}

// ---- the BPE model -----------------------------------------------------------------

// Splits a merge written as one string "left right". A piece may itself hold a
// space (Llama-2 has "   " = " " + " "): then the split is the first space that
// leaves both parts and their concatenation in the vocabulary.
rlc_status tok_add_merge_string(tok_tokenizer *t, const char *m, size_t len, int rank, const char *what) {
    const char *sp = memchr(m, ' ', len);
    if (!sp) return rlc_errorf(RLC_ERR_FORMAT, "%s: merge %d \"%s\" has no space", what, rank, m);
    if (!memchr(sp + 1, ' ', len - (size_t)(sp + 1 - m)))
        return tok_add_merge(t, m, (size_t)(sp - m), sp + 1, len - (size_t)(sp + 1 - m), rank, what);
    for (size_t i = 0; i < len; i++) {
        if (m[i] != ' ') continue;
        char buf[1024];
        if (len >= sizeof buf) break;
        memcpy(buf, m, i);
        memcpy(buf + i, m + i + 1, len - i - 1);
        buf[len - 1] = '\0';
        char left[1024], right[1024];
        memcpy(left, m, i), left[i] = '\0';
        memcpy(right, m + i + 1, len - i - 1), right[len - i - 1] = '\0';
        if (tok_piece_to_id(t, left) >= 0 && tok_piece_to_id(t, right) >= 0 && tok_piece_to_id(t, buf) >= 0)
            return tok_add_merge(t, m, i, m + i + 1, len - i - 1, rank, what);
    }
    return rlc_errorf(RLC_ERR_FORMAT, "%s: merge %d \"%s\" does not split into vocabulary pieces", what, rank, m);
}

static rlc_status read_merges_json(tok_tokenizer *t, const json_t *merges, const char *what) {
    if (!json_is_array(merges)) return rlc_errorf(RLC_ERR_FORMAT, "%s: model.merges must be an array", what);
    RLC_TRY(tok_mergemap_init(&t->merges, json_array_size(merges)));
    size_t i;
    const json_t *m;
    json_array_foreach(merges, i, m) {
        if (json_is_string(m)) {
            RLC_TRY(tok_add_merge_string(t, json_string_value(m), json_string_length(m), (int)i, what));
        } else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
                   json_is_string(json_array_get(m, 1))) {
            const json_t *l = json_array_get(m, 0), *r = json_array_get(m, 1);
            RLC_TRY(tok_add_merge(t, json_string_value(l), json_string_length(l), json_string_value(r),
                                  json_string_length(r), (int)i, what));
        } else {
            return rlc_errorf(RLC_ERR_FORMAT, "%s: model.merges[%zu] is neither \"a b\" nor [\"a\", \"b\"]", what, i);
        }
    }
    return RLC_OK;
}

rlc_status tok_read_vocab_json(tok_tokenizer *t, const json_t *vocab, const char *what) {
    if (!json_is_object(vocab)) return rlc_errorf(RLC_ERR_FORMAT, "%s: the vocabulary must be an object", what);
    int max_id = -1;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)vocab, key, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (1 << 24))
            return rlc_errorf(RLC_ERR_FORMAT, "%s: vocabulary entry \"%s\" needs an id in 0..2^24", what, key);
        if (json_integer_value(v) > max_id) max_id = (int)json_integer_value(v);
    }
    RLC_TRY(tok_reserve(t, max_id + 1));
    json_object_foreach((json_t *)vocab, key, v) {
        int id = (int)json_integer_value(v);
        if (t->tokens[id].piece) return rlc_errorf(RLC_ERR_FORMAT, "%s: id %d appears twice in the vocabulary", what, id);
        RLC_TRY(tok_set_piece(t, id, key, strlen(key)));
    }
    return tok_index_vocab(t);
}

static rlc_status read_model(tok_tokenizer *t, const json_t *model, const char *what) {
    const char *type = str_field(model, "type");
    if (!json_is_object(model)) return rlc_errorf(RLC_ERR_FORMAT, "%s: missing object \"model\"", what);
    if (type && strcmp(type, "BPE") != 0)
        return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: model type \"%s\" is not supported (rlc reads BPE models only)",
                          what, type);
    if (!type && !json_object_get(model, "merges"))
        return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: model has no type and no merges (rlc reads BPE models only)", what);
    const char *prefix = str_field(model, "continuing_subword_prefix");
    const char *suffix = str_field(model, "end_of_word_suffix");
    if ((prefix && *prefix) || (suffix && *suffix))
        return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: BPE continuing_subword_prefix / end_of_word_suffix are not supported",
                          what);
    t->byte_fallback = bool_field(model, "byte_fallback", 0);
    t->fuse_unk = bool_field(model, "fuse_unk", 0);
    t->ignore_merges = bool_field(model, "ignore_merges", 0);
    RLC_TRY(tok_read_vocab_json(t, json_object_get(model, "vocab"), what));
    const char *unk = str_field(model, "unk_token");
    if (unk) t->unk_id = tok_strmap_get(&t->model_map, unk, strlen(unk));
    return read_merges_json(t, json_object_get(model, "merges"), what);
}

static rlc_status read_added(tok_tokenizer *t, const json_t *added, const char *what) {
    if (!added || json_is_null(added)) return RLC_OK;
    if (!json_is_array(added)) return rlc_errorf(RLC_ERR_FORMAT, "%s: added_tokens must be an array", what);
    size_t i;
    const json_t *a;
    json_array_foreach(added, i, a) {
        const json_t *id = json_object_get(a, "id"), *content = json_object_get(a, "content");
        if (!json_is_integer(id) || !json_is_string(content))
            return rlc_errorf(RLC_ERR_FORMAT, "%s: added_tokens[%zu] needs an integer id and a string content", what, i);
        RLC_TRY(tok_add_token(t, (int)json_integer_value(id), json_string_value(content), json_string_length(content),
                              bool_field(a, "special", 0), bool_field(a, "lstrip", 0), bool_field(a, "rstrip", 0),
                              bool_field(a, "normalized", 0), bool_field(a, "single_word", 0)));
    }
    return RLC_OK;
}

// ---- normalizers ---------------------------------------------------------------------

static rlc_status add_norm(tok_tokenizer *t, tok_norm_step st, const char *what) {
    if (t->n_norm == TOK_MAX_STEPS) return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: too many normalizers", what);
    t->norm[t->n_norm++] = st;
    return RLC_OK;
}

static rlc_status read_normalizer(tok_tokenizer *t, const json_t *n, const char *what) {
    if (!n || json_is_null(n)) return RLC_OK;
    const char *type = type_of(n);
    tok_norm_step st = {0};
    if (strcmp(type, "Sequence") == 0) {
        size_t i;
        const json_t *sub;
        json_array_foreach(json_object_get(n, "normalizers"), i, sub) RLC_TRY(read_normalizer(t, sub, what));
        return RLC_OK;
    }
    static const char *unicode[] = {"NFC", "NFD", "NFKC", "NFKD"};
    for (int k = 0; k < 4; k++)
        if (strcmp(type, unicode[k]) == 0) return add_norm(t, (tok_norm_step){.kind = (tok_norm_kind)k}, what);
    if (strcmp(type, "Prepend") == 0 && str_field(n, "prepend")) {
        st.kind = TOK_NORM_PREPEND;
        st.a = arena_str(t, str_field(n, "prepend"));
        st.alen = strlen(st.a);
        return add_norm(t, st, what);
    }
    if (strcmp(type, "Replace") == 0) {
        const char *pat;
        size_t len;
        int literal;
        RLC_TRY(pattern_of(n, what, &pat, &len, &literal));
        if (!literal || len == 0 || !str_field(n, "content"))
            return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: only Replace normalizers with a String pattern are supported", what);
        st.kind = TOK_NORM_REPLACE;
        st.a = rlc_arena_strndup(t->arena, pat, len), st.alen = len;
        st.b = arena_str(t, str_field(n, "content")), st.blen = strlen(st.b);
        return add_norm(t, st, what);
    }
    if (strcmp(type, "Lowercase") == 0) return add_norm(t, (tok_norm_step){.kind = TOK_NORM_LOWERCASE}, what);
    if (strcmp(type, "Strip") == 0)
        return add_norm(t, (tok_norm_step){.kind = TOK_NORM_STRIP, .left = bool_field(n, "strip_left", 1),
                                           .right = bool_field(n, "strip_right", 1)}, what);
    return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: normalizer type \"%s\" is not supported", what, type);
}

// ---- pre-tokenizers ---------------------------------------------------------------------

// The regex the ByteLevel pre-tokenizer runs when use_regex is on (GPT-2's).
static const char GPT2_PATTERN[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

rlc_status tok_add_split(tok_tokenizer *t, const char *pat, size_t len, int literal, tok_split_behavior b,
                         int invert, const char *what) {
    if (t->n_pre == TOK_MAX_STEPS) return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: too many pre-tokenizers", what);
    tok_pre_step *st = &t->pre[t->n_pre];
    memset(st, 0, sizeof *st);
    RLC_TRY(tok_compile_regex(t, pat, len, literal, what, &st->re));
    st->kind = TOK_PRE_SPLIT;
    st->behavior = b;
    st->invert = invert;
    t->n_pre++;
    return RLC_OK;
}

rlc_status tok_add_bytelevel(tok_tokenizer *t, int add_prefix_space, int use_regex, const char *what) {
    if (add_prefix_space) {
        if (t->n_pre == TOK_MAX_STEPS) return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: too many pre-tokenizers", what);
        t->pre[t->n_pre++] = (tok_pre_step){.kind = TOK_PRE_PREFIX_SPACE};
    }
    if (use_regex) RLC_TRY(tok_add_split(t, GPT2_PATTERN, strlen(GPT2_PATTERN), 0, TOK_SPLIT_ISOLATED, 0, what));
    return RLC_OK;
}

static int parse_behavior(const char *s) {
    static const char *names[] = {"Isolated", "Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
    for (int i = 0; i < 5; i++)
        if (s && strcmp(s, names[i]) == 0) return i;
    return -1;
}

static int prepend_scheme(const json_t *o) {
    const char *s = str_field(o, "prepend_scheme");
    if (s) return strcmp(s, "first") == 0 ? TOK_PREPEND_FIRST : strcmp(s, "never") == 0 ? TOK_PREPEND_NEVER
                                                                                           : TOK_PREPEND_ALWAYS;
    return bool_field(o, "add_prefix_space", 1) ? TOK_PREPEND_ALWAYS : TOK_PREPEND_NEVER;
}

static rlc_status read_pre(tok_tokenizer *t, const json_t *p, const char *what) {
    if (!p || json_is_null(p)) return RLC_OK;
    const char *type = type_of(p);
    if (strcmp(type, "Sequence") == 0) {
        size_t i;
        const json_t *sub;
        json_array_foreach(json_object_get(p, "pretokenizers"), i, sub) RLC_TRY(read_pre(t, sub, what));
        return RLC_OK;
    }
    if (strcmp(type, "Split") == 0) {
        const char *pat;
        size_t len;
        int literal, b = parse_behavior(str_field(p, "behavior"));
        RLC_TRY(pattern_of(p, what, &pat, &len, &literal));
        if (b < 0) return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: Split behavior \"%s\" is not supported", what,
                                     str_field(p, "behavior") ? str_field(p, "behavior") : "(none)");
        return tok_add_split(t, pat, len, literal, (tok_split_behavior)b, bool_field(p, "invert", 0), what);
    }
    if (strcmp(type, "ByteLevel") == 0)
        return tok_add_bytelevel(t, bool_field(p, "add_prefix_space", 1), bool_field(p, "use_regex", 1), what);
    if (strcmp(type, "Digits") == 0) {
        const char *re = bool_field(p, "individual_digits", 0) ? "\\p{N}" : "\\p{N}+";
        return tok_add_split(t, re, strlen(re), 0, TOK_SPLIT_ISOLATED, 0, what);
    }
    if (strcmp(type, "Whitespace") == 0) return tok_add_split(t, "\\w+|[^\\w\\s]+", 14, 0, TOK_SPLIT_REMOVED, 1, what);
    if (strcmp(type, "WhitespaceSplit") == 0) return tok_add_split(t, "\\s+", 3, 0, TOK_SPLIT_REMOVED, 0, what);
    if (strcmp(type, "Metaspace") == 0) {
        const char *repl = str_field(p, "replacement");
        if (!repl || !*repl) return rlc_errorf(RLC_ERR_FORMAT, "%s: Metaspace needs a replacement", what);
        if (t->n_pre == TOK_MAX_STEPS) return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: too many pre-tokenizers", what);
        const char *r = arena_str(t, repl);
        t->pre[t->n_pre++] = (tok_pre_step){.kind = TOK_PRE_METASPACE, .repl = r, .repl_len = strlen(r),
                                            .prepend_scheme = prepend_scheme(p), .split = bool_field(p, "split", 1)};
        return RLC_OK;
    }
    return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: pre-tokenizer type \"%s\" is not supported", what, type);
}

// ---- decoder and post-processor ----------------------------------------------------------

typedef struct {
    const char *replace, *with;  // one Replace step
    int byte_fallback, bytelevel;
} decoder_spec;

static rlc_status read_decoder(tok_tokenizer *t, const json_t *d, decoder_spec *spec, const char *what) {
    if (!d || json_is_null(d)) return RLC_OK;
    const char *type = type_of(d);
    if (strcmp(type, "Sequence") == 0) {
        size_t i;
        const json_t *sub;
        json_array_foreach(json_object_get(d, "decoders"), i, sub) RLC_TRY(read_decoder(t, sub, spec, what));
        return RLC_OK;
    }
    if (strcmp(type, "ByteLevel") == 0) {
        spec->bytelevel = 1;
    } else if (strcmp(type, "ByteFallback") == 0) {
        spec->byte_fallback = 1;
    } else if (strcmp(type, "Fuse") == 0) {
        // tokens are concatenated anyway
    } else if (strcmp(type, "Replace") == 0) {
        const char *pat;
        size_t len;
        int literal;
        RLC_TRY(pattern_of(d, what, &pat, &len, &literal));
        if (!literal || spec->replace || !str_field(d, "content"))
            return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: only one Replace decoder with a String pattern is supported", what);
        spec->replace = rlc_arena_strndup(t->arena, pat, len);
        spec->with = arena_str(t, str_field(d, "content"));
    } else if (strcmp(type, "Strip") == 0) {
        const char *c = str_field(d, "content");
        long long start = json_integer_value(json_object_get(d, "start"));
        if (c && strcmp(c, " ") == 0) t->strip_leading = (int)start;
    } else if (strcmp(type, "Metaspace") == 0) {
        spec->replace = arena_str(t, str_field(d, "replacement"));
        spec->with = " ";
        if (prepend_scheme(d) != TOK_PREPEND_NEVER) t->strip_leading = 1;
    } else {
        return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: decoder type \"%s\" is not supported", what, type);
    }
    return RLC_OK;
}

static rlc_status add_extra(tok_tokenizer *t, int *arr, int *n, int id, const char *what) {
    if (*n == TOK_MAX_EXTRA) return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: the post-processor adds too many tokens", what);
    arr[(*n)++] = id;
    return RLC_OK;
}

// TemplateProcessing's "single" template: special tokens before and after $A.
static rlc_status read_template(tok_tokenizer *t, const json_t *p, const char *what) {
    const json_t *single = json_object_get(p, "single"), *specials = json_object_get(p, "special_tokens");
    int after = 0;
    size_t i;
    const json_t *item;
    json_array_foreach(single, i, item) {
        if (json_object_get(item, "Sequence")) {
            after = 1;
            continue;
        }
        const char *name = str_field(json_object_get(item, "SpecialToken"), "id");
        const json_t *ids = json_object_get(json_object_get(specials, name ? name : ""), "ids");
        if (!name || !json_is_array(ids))
            return rlc_errorf(RLC_ERR_FORMAT, "%s: post_processor template item %zu is not a known special token", what, i);
        size_t k;
        const json_t *id;
        json_array_foreach(ids, k, id) {
            if (after) RLC_TRY(add_extra(t, t->suffix, &t->n_suffix, (int)json_integer_value(id), what));
            else RLC_TRY(add_extra(t, t->prefix, &t->n_prefix, (int)json_integer_value(id), what));
        }
    }
    return RLC_OK;
}

static rlc_status read_post(tok_tokenizer *t, const json_t *p, const char *what) {
    if (!p || json_is_null(p)) return RLC_OK;
    const char *type = type_of(p);
    if (strcmp(type, "Sequence") == 0) {
        size_t i;
        const json_t *sub;
        json_array_foreach(json_object_get(p, "processors"), i, sub) RLC_TRY(read_post(t, sub, what));
        return RLC_OK;
    }
    if (strcmp(type, "ByteLevel") == 0) return RLC_OK;  // offsets only
    if (strcmp(type, "TemplateProcessing") == 0) return read_template(t, p, what);
    if (strcmp(type, "RobertaProcessing") == 0 || strcmp(type, "BertProcessing") == 0) {
        const json_t *cls = json_object_get(p, "cls"), *sep = json_object_get(p, "sep");
        if (!json_is_array(cls) || !json_is_array(sep))
            return rlc_errorf(RLC_ERR_FORMAT, "%s: %s needs cls and sep", what, type);
        RLC_TRY(add_extra(t, t->prefix, &t->n_prefix, (int)json_integer_value(json_array_get(cls, 1)), what));
        return add_extra(t, t->suffix, &t->n_suffix, (int)json_integer_value(json_array_get(sep, 1)), what);
    }
    return rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: post-processor type \"%s\" is not supported", what, type);
}

// Whether a pre-tokenizer section uses ByteLevel anywhere.
static int uses_bytelevel(const json_t *p) {
    if (!p) return 0;
    const char *type = str_field(p, "type");
    if (type && strcmp(type, "ByteLevel") == 0) return 1;
    size_t i;
    const json_t *sub;
    json_array_foreach(json_object_get(p, "pretokenizers"), i, sub) if (uses_bytelevel(sub)) return 1;
    json_array_foreach(json_object_get(p, "decoders"), i, sub) if (uses_bytelevel(sub)) return 1;
    return 0;
}

static rlc_status read_hf(tok_tokenizer *t, const json_t *root, const char *what) {
    if (!json_is_object(root)) return rlc_errorf(RLC_ERR_FORMAT, "%s: the top level must be an object", what);
    RLC_TRY(read_model(t, json_object_get(root, "model"), what));
    RLC_TRY(read_normalizer(t, json_object_get(root, "normalizer"), what));
    RLC_TRY(read_pre(t, json_object_get(root, "pre_tokenizer"), what));
    RLC_TRY(read_post(t, json_object_get(root, "post_processor"), what));
    RLC_TRY(read_added(t, json_object_get(root, "added_tokens"), what));
    RLC_TRY(tok_finish_added(t));
    decoder_spec spec = {0};
    RLC_TRY(read_decoder(t, json_object_get(root, "decoder"), &spec, what));
    return tok_finish_texts(t, spec.replace, spec.with, spec.byte_fallback, spec.bytelevel);
}

rlc_status tok_load_hf_json(const char *path, tok_tokenizer **out) {
    json_t *root;
    RLC_TRY(rlc_json_load_file(path, &root));
    const json_t *model = json_object_get(root, "model");
    int bytelevel = uses_bytelevel(json_object_get(root, "pre_tokenizer")) ||
                    uses_bytelevel(json_object_get(root, "decoder"));
    const char *type = json_is_object(model) ? str_field(model, "type") : NULL;
    tok_tokenizer *t = NULL;
    rlc_status st = tok_new(bytelevel ? TOK_KIND_BYTE_LEVEL : TOK_KIND_SENTENCEPIECE, &t);
    if (st == RLC_OK && type && strcmp(type, "BPE") != 0)
        st = rlc_errorf(RLC_ERR_UNSUPPORTED, "%s: model type \"%s\" is not supported (rlc reads BPE models only)",
                        path, type);
    if (st == RLC_OK) st = read_hf(t, root, path);
    json_decref(root);
    if (st != RLC_OK) {
        tok_free(t);
        return st;
    }
    *out = t;
    return RLC_OK;
}

// ---- tok_load --------------------------------------------------------------------------

// The folder part of a file path ("." when there is none).
static void dir_of(const char *path, char *buf, size_t cap) {
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(buf, cap, ".");
        return;
    }
    size_t n = (size_t)(slash - path);
    snprintf(buf, cap, "%.*s", (int)(n ? n : 1), path);
}

// Whether a file starts (after whitespace) with '{'.
static int looks_like_json(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    int c;
    while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t') {
    }
    fclose(f);
    return c == '{';
}

static rlc_status load_dir(const char *dir, tok_tokenizer **out) {
    char p[4096], v[4096], m[4096];
    RLC_TRY(rlc_path_join(p, sizeof p, dir, "tokenizer.json"));
    if (rlc_file_exists(p)) return tok_load_hf_json(p, out);
    RLC_TRY(rlc_path_join(v, sizeof v, dir, "vocab.json"));
    RLC_TRY(rlc_path_join(m, sizeof m, dir, "merges.txt"));
    if (rlc_file_exists(v) && rlc_file_exists(m)) return tok_load_vocab_merges(dir, out);
    RLC_TRY(rlc_path_join(p, sizeof p, dir, "tokenizer.bin"));
    if (rlc_file_exists(p)) return tok_load_llama2c(p, out);
    return rlc_errorf(RLC_ERR_IO, "%s: no tokenizer.json, vocab.json + merges.txt, or tokenizer.bin in this folder", dir);
}

rlc_status tok_load(const char *path, tok_tokenizer **out) {
    *out = NULL;
    if (!path) return rlc_errorf(RLC_ERR_ARG, "tok_load: path is NULL");
    char dir[4096];
    tok_tokenizer *t = NULL;
    rlc_status st;
    if (rlc_is_dir(path)) {
        snprintf(dir, sizeof dir, "%s", path);
        st = load_dir(path, &t);
    } else if (!rlc_file_exists(path)) {
        return rlc_errorf(RLC_ERR_IO, "%s: no such tokenizer file or folder", path);
    } else {
        dir_of(path, dir, sizeof dir);
        st = looks_like_json(path) ? tok_load_hf_json(path, &t) : tok_load_llama2c(path, &t);
    }
    if (st == RLC_OK && t->kind != TOK_KIND_LLAMA2C) st = tok_apply_configs(t, dir);
    if (st != RLC_OK) {
        tok_free(t);
        return st;
    }
    *out = t;
    return RLC_OK;
}

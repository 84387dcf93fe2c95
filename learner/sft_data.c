// sft_data.c: JSONL records -> tokenized samples with a loss mask.
// prompt/response records: encode(prompt, with special tokens) masked, then
// encode(response) + EOS trained. messages records: the chat template renders
// the conversation; each assistant turn's text (what rendering the turn adds
// after the generation prompt) is trained, the rest masked.
#include <string.h>  // strcmp, strlen, strncmp

#include "actor/chat.h"  // chat_template_for, chat_render
#include "core/core.h"   // rlc_jsonl_each, rlc_error_wrap
#include "sft_internal.h"

void sft_data_free(sft_dataset *d) {
    rlc_free(d->tokens);
    rlc_free(d->mask);
    rlc_free(d->offsets);
    memset(d, 0, sizeof *d);
}

// Appends n ids with mask value m to the sample being built.
static rlc_status push(sft_dataset *d, const int *ids, size_t n, unsigned char m) {
    if (d->n_tokens + n > d->cap_tokens) {
        size_t cap = d->cap_tokens ? d->cap_tokens : 4096;
        while (cap < d->n_tokens + n) cap *= 2;
        int *t = rlc_realloc(d->tokens, cap * sizeof *t);
        if (t) d->tokens = t;
        unsigned char *k = t ? rlc_realloc(d->mask, cap) : NULL;
        if (!k) return rlc_errorf(RLC_ERR_NOMEM, "SFT data: out of memory (%zu tokens)", cap);
        d->mask = k;
        d->cap_tokens = cap;
    }
    memcpy(d->tokens + d->n_tokens, ids, n * sizeof *ids);
    memset(d->mask + d->n_tokens, m, n);
    d->n_tokens += n;
    return RLC_OK;
}

static rlc_status push_text(sft_dataset *d, const tok_tokenizer *tok, const char *text, size_t len, int flags,
                            unsigned char m) {
    int *ids;
    size_t n;
    RLC_TRY(tok_encode(tok, text, len, flags, &ids, &n));
    rlc_status s = push(d, ids, n, m);
    rlc_free(ids);
    return s;
}

// Ends the sample that started at token `start`: truncates, skips, or keeps it.
static rlc_status finish_sample(sft_dataset *d, const sft_config *c, size_t start, size_t n_prompt) {
    if (c->max_prompt_tokens > 0 && n_prompt > (size_t)c->max_prompt_tokens) {
        d->skipped_prompt++;
        d->n_tokens = start;
        return RLC_OK;
    }
    if (d->n_tokens - start > (size_t)c->micro_batch_tokens) {
        d->n_tokens = start + (size_t)c->micro_batch_tokens;
        d->truncated++;
    }
    int trained = 0;  // a token is a target only when it is not the sample's first
    for (size_t i = start + 1; i < d->n_tokens && !trained; i++) trained = d->mask[i];
    if (!trained) {
        d->skipped_empty++;
        d->n_tokens = start;
        return RLC_OK;
    }
    if (d->n + 2 > d->cap) {
        long cap = d->cap ? 2 * d->cap : 1024;
        long *o = rlc_realloc(d->offsets, (size_t)cap * sizeof *o);
        if (!o) return rlc_errorf(RLC_ERR_NOMEM, "SFT data: out of memory");
        d->offsets = o;
        d->cap = cap;
    }
    d->offsets[d->n] = (long)start;
    d->n++;
    d->offsets[d->n] = (long)d->n_tokens;
    return RLC_OK;
}

static rlc_status prompt_response(sft_dataset *d, const sft_config *c, const tok_tokenizer *tok, int eos,
                                  const char *prompt, const char *response) {
    size_t start = d->n_tokens;
    RLC_TRY(push_text(d, tok, prompt, strlen(prompt), TOK_ENCODE_ADD_SPECIAL, 0));
    size_t n_prompt = d->n_tokens - start;
    RLC_TRY(push_text(d, tok, response, strlen(response), 0, 1));
    if (eos >= 0) RLC_TRY(push(d, &eos, 1, 1));
    return finish_sample(d, c, start, n_prompt);
}

static rlc_status conversation(sft_dataset *d, const sft_config *c, const tok_tokenizer *tok,
                               const chat_template *tpl, const json_t *msgs, const char *where) {
    size_t n = json_array_size(msgs);
    chat_message *m = rlc_calloc(n ? n : 1, sizeof *m);
    if (!m) return rlc_errorf(RLC_ERR_NOMEM, "%s: out of memory", where);
    rlc_status s = RLC_OK;
    for (size_t i = 0; i < n && s == RLC_OK; i++) {
        const json_t *e = json_array_get(msgs, i);
        m[i].role = json_string_value(json_object_get(e, "role"));
        m[i].content = json_string_value(json_object_get(e, "content"));
        if (!m[i].role || !m[i].content)
            s = rlc_errorf(RLC_ERR_FORMAT, "%s: message %zu needs string \"role\" and \"content\"", where, i);
    }
    char *full = NULL, *pre = NULL, *upto = NULL;
    size_t full_len = 0, pre_len = 0, upto_len = 0, done = 0, start = d->n_tokens, n_prompt = 0;
    int seen_assistant = 0;
    if (s == RLC_OK) s = chat_render(tpl, m, n, 0, &full, &full_len);
    for (size_t i = 0; i < n && s == RLC_OK; i++) {
        if (strcmp(m[i].role, "assistant") != 0) continue;
        s = chat_render(tpl, m, i, 1, &pre, &pre_len);
        if (s == RLC_OK) s = chat_render(tpl, m, i + 1, 0, &upto, &upto_len);
        if (s == RLC_OK && (pre_len < done || pre_len > upto_len || upto_len > full_len ||
                            memcmp(full, upto, upto_len) != 0 || memcmp(full, pre, pre_len) != 0))
            s = rlc_errorf(RLC_ERR_FORMAT,
                           "%s: the chat template %s does not render assistant turn %zu as an extension of the "
                           "conversation before it; cannot tell which tokens to train on",
                           where, chat_template_name(tpl), i);
        if (s == RLC_OK) s = push_text(d, tok, full + done, pre_len - done, 0, 0);
        if (s == RLC_OK && !seen_assistant) n_prompt = d->n_tokens - start, seen_assistant = 1;
        if (s == RLC_OK) s = push_text(d, tok, full + pre_len, upto_len - pre_len, 0, 1);
        done = upto_len;
        rlc_free(pre);
        rlc_free(upto);
        pre = upto = NULL;
    }
    if (s == RLC_OK && done < full_len) s = push_text(d, tok, full + done, full_len - done, 0, 0);
    if (s == RLC_OK && !seen_assistant) n_prompt = d->n_tokens - start;
    if (s == RLC_OK) s = finish_sample(d, c, start, n_prompt);
    else d->n_tokens = start;
    rlc_free(full);
    rlc_free(m);
    return s;
}

typedef struct {
    sft_dataset *d;
    const sft_config *c;
    const tok_tokenizer *tok;
    int eos;
    chat_template **tpl;
    const char *path;
} file_loader;

// One JSONL record (rlc_jsonl_fn): a conversation or a prompt/response pair.
static rlc_status load_record(void *ud, const json_t *rec, const char *where, int *stop) {
    file_loader *l = ud;
    const sft_config *c = l->c;
    const json_t *msgs = json_object_get(rec, c->messages_key);
    const char *p = json_string_value(json_object_get(rec, c->prompt_key));
    const char *r = json_string_value(json_object_get(rec, c->response_key));
    rlc_status s;
    if (json_is_array(msgs)) {
        s = *l->tpl ? RLC_OK
                    : chat_template_for(l->tok, c->chat_template && *c->chat_template ? c->chat_template : NULL,
                                        l->tpl);
        if (s == RLC_OK) s = conversation(l->d, c, l->tok, *l->tpl, msgs, where);
    } else if (p && r) {
        s = prompt_response(l->d, c, l->tok, l->eos, p, r);
    } else {
        s = rlc_errorf(RLC_ERR_FORMAT, "%s: a record needs string fields \"%s\" and \"%s\", or a \"%s\" list",
                       where, c->prompt_key, c->response_key, c->messages_key);
    }
    if (s != RLC_OK && s != RLC_ERR_FORMAT && strncmp(rlc_last_error(), l->path, strlen(l->path)) != 0)
        s = rlc_error_wrap(s, "%s", where);
    return s;
}

static rlc_status load_file(sft_dataset *d, const sft_config *c, const tok_tokenizer *tok, int eos,
                            chat_template **tpl, const char *path) {
    file_loader l = {d, c, tok, eos, tpl, path};
    return rlc_jsonl_each(path, load_record, &l);
}

rlc_status sft_data_load(sft_dataset *d, const sft_config *c, const tok_tokenizer *tok, int eos) {
    memset(d, 0, sizeof *d);
    chat_template *tpl = NULL;
    rlc_status s = c->n_data > 0 ? RLC_OK : rlc_errorf(RLC_ERR_CONFIG, "SFT: no data (data.sources is empty)");
    for (int i = 0; i < c->n_data && s == RLC_OK; i++) s = load_file(d, c, tok, eos, &tpl, c->data_paths[i]);
    chat_template_free(tpl);
    if (s == RLC_OK && d->n == 0)
        s = rlc_errorf(RLC_ERR_CONFIG, "SFT: no usable sample in the data (%ld prompts too long, %ld without "
                       "response tokens)", d->skipped_prompt, d->skipped_empty);
    if (s != RLC_OK) {
        sft_data_free(d);
        return s;
    }
    unsigned long long h = 1469598103934665603ull;
#define FNV(x) (h = (h ^ (unsigned long long)(x)) * 1099511628211ull)
    for (size_t i = 0; i < d->n_tokens; i++) FNV((unsigned)d->tokens[i]), FNV(d->mask[i]);
    for (long i = 0; i <= d->n; i++) FNV(d->offsets[i]);
#undef FNV
    d->fingerprint = h;
    return RLC_OK;
}

// chat.c: the built-in chat templates (ChatML with the Qwen2.5 and Qwen3
// rules, Llama-3, plain), their detection from a Jinja chat_template, and the
// renderer. chat.h lists what each template renders.
#include <string.h>  // strlen, strstr, strcmp, memcpy

#include "actor/chat.h"
#include "core/alloc.h"  // rlc_malloc, rlc_realloc, rlc_free
#include "core/log.h"    // RLC_WARN

typedef enum { CHAT_PLAIN = 0, CHAT_CHATML, CHAT_LLAMA3 } chat_format;

struct chat_template {
    chat_format format;
    const char *name;      // a string literal
    char *default_system;  // owned, or NULL
    int qwen_rules;        // tool turns grouped, unknown roles left out, first message read
    int qwen3_think;       // <think> blocks on the assistant turns after the last query
};

static const char QWEN25_SYSTEM[] = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

// ---- construction ---------------------------------------------------------------------

static rlc_status make(chat_format f, const char *name, const char *system, int qwen_rules, int think,
                       chat_template **out) {
    chat_template *t = rlc_calloc(1, sizeof *t);
    if (!t) return rlc_errorf(RLC_ERR_NOMEM, "chat: out of memory");
    t->format = f;
    t->name = name;
    t->qwen_rules = qwen_rules;
    t->qwen3_think = think;
    if (system && !(t->default_system = rlc_strdup(system))) {
        rlc_free(t);
        return rlc_errorf(RLC_ERR_NOMEM, "chat: out of memory");
    }
    *out = t;
    return RLC_OK;
}

rlc_status chat_template_from_name(const char *name, chat_template **out) {
    *out = NULL;
    if (!name) return rlc_errorf(RLC_ERR_ARG, "chat: template name is NULL");
    if (strcmp(name, "chatml") == 0) return make(CHAT_CHATML, "chatml", NULL, 0, 0, out);
    if (strcmp(name, "qwen2.5") == 0) return make(CHAT_CHATML, "qwen2.5", QWEN25_SYSTEM, 1, 0, out);
    if (strcmp(name, "qwen3") == 0) return make(CHAT_CHATML, "qwen3", NULL, 1, 1, out);
    if (strcmp(name, "llama3") == 0) return make(CHAT_LLAMA3, "llama3", NULL, 0, 0, out);
    if (strcmp(name, "plain") == 0) return make(CHAT_PLAIN, "plain", NULL, 0, 0, out);
    return rlc_errorf(RLC_ERR_ARG, "chat: unknown template \"%s\" (known: chatml, qwen2.5, qwen3, llama3, plain)", name);
}

// The default system message a ChatML Jinja template writes literally:
// '<|im_start|>system\nTEXT<|im_end|>' where TEXT is not an expression.
// Returns a new string (rlc_free) or NULL.
static char *find_default_system(const char *jinja) {
    static const char open[] = "<|im_start|>system\\n";
    for (const char *p = strstr(jinja, open); p; p = strstr(p + 1, open)) {
        const char *b = p + strlen(open), *e = strstr(b, "<|im_end|>");
        if (!e || e == b || memchr(b, '\'', (size_t)(e - b)) || memchr(b, '"', (size_t)(e - b)) ||
            memchr(b, '{', (size_t)(e - b)) || memchr(b, '\n', (size_t)(e - b)))
            continue;
        char *s = rlc_malloc((size_t)(e - b) + 1);
        if (!s) return NULL;
        size_t n = 0;
        for (const char *q = b; q < e; q++) {  // undo the Jinja string escapes
            if (q[0] == '\\' && q + 1 < e) {
                q++;
                s[n++] = q[0] == 'n' ? '\n' : q[0] == 't' ? '\t' : q[0];
            } else {
                s[n++] = q[0];
            }
        }
        s[n] = '\0';
        return s;
    }
    return NULL;
}

rlc_status chat_template_detect(const char *jinja, chat_template **out) {
    *out = NULL;
    if (!jinja) return rlc_errorf(RLC_ERR_ARG, "chat: no template to detect");
    if (strstr(jinja, "<|start_header_id|>") && strstr(jinja, "<|eot_id|>"))
        return make(CHAT_LLAMA3, "llama3", NULL, 0, 0, out);
    if (!strstr(jinja, "<|im_start|>"))
        return rlc_errorf(RLC_ERR_UNSUPPORTED, "chat: the chat_template matches no built-in template "
                                               "(chatml, qwen2.5, qwen3, llama3); pick one by name");
    int qwen = strstr(jinja, "<tool_response>") != NULL;
    if (qwen && (strstr(jinja, "<think>") || strstr(jinja, "reasoning_content")))
        return make(CHAT_CHATML, "qwen3", NULL, 1, 1, out);
    char *system = find_default_system(jinja);
    const char *name = qwen && system && strcmp(system, QWEN25_SYSTEM) == 0 ? "qwen2.5" : "chatml";
    rlc_status st = make(CHAT_CHATML, name, system, qwen, 0, out);
    rlc_free(system);
    return st;
}

rlc_status chat_template_for(const tok_tokenizer *tok, const char *name, chat_template **out) {
    if (name) return chat_template_from_name(name, out);
    const char *jinja = tok ? tok_chat_template(tok) : NULL;
    if (jinja && chat_template_detect(jinja, out) == RLC_OK) return RLC_OK;
    if (jinja) RLC_WARN("chat: the tokenizer's chat_template is not recognized; using the plain template");
    return chat_template_from_name("plain", out);
}

const char *chat_template_name(const chat_template *t) { return t->name; }
const char *chat_template_default_system(const chat_template *t) { return t->default_system; }

void chat_template_free(chat_template *t) {
    if (!t) return;
    rlc_free(t->default_system);
    rlc_free(t);
}

// ---- rendering ----------------------------------------------------------------------------

typedef struct {
    char *p;
    size_t n, cap;
    int failed;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->failed) return;
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 256;
        while (c < b->n + n + 1) c *= 2;
        char *p = rlc_realloc(b->p, c);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = c;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

static int is_role(const chat_message *m, const char *role) { return strcmp(m->role, role) == 0; }

static void chatml_turn(sbuf *b, const char *role, const char *content) {
    puts_(b, "<|im_start|>");
    puts_(b, role);
    puts_(b, "\n");
    puts_(b, content);
    puts_(b, "<|im_end|>\n");
}

static int starts_with(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static int ends_with(const char *s, const char *p) {
    size_t n = strlen(s), m = strlen(p);
    return n >= m && strcmp(s + n - m, p) == 0;
}

// Qwen3: the last user message that is a real query (not a tool response).
static size_t last_query(const chat_message *msgs, size_t n) {
    for (size_t i = n; i-- > 0;)
        if (is_role(&msgs[i], "user") &&
            !(starts_with(msgs[i].content, "<tool_response>") && ends_with(msgs[i].content, "</tool_response>")))
            return i;
    return n - 1;
}

// Appends s[b..e) with `lead` / `trail` newlines stripped (Python's strip('\n')).
static void put_stripped(sbuf *b, const char *s, const char *e, int lead, int trail) {
    while (lead && s < e && *s == '\n') s++;
    while (trail && e > s && e[-1] == '\n') e--;
    put(b, s, (size_t)(e - s));
}

// Qwen3's assistant turn: reasoning split off at </think>, and a <think> block
// when the turn follows the last query and is the last or has reasoning.
static void qwen3_assistant(sbuf *b, const char *content, int after_query, int last) {
    const char *end = content + strlen(content), *close = strstr(content, "</think>");
    const char *r_begin = content, *r_end = content, *body = content;
    if (close) {
        for (const char *p = strstr(content, "</think>"); p; p = strstr(p + 1, "</think>")) body = p + 8;
        r_end = close;
        while (r_end > content && r_end[-1] == '\n') r_end--;
        for (const char *p = strstr(content, "<think>"); p && p < r_end; p = strstr(p + 1, "<think>")) r_begin = p + 7;
        while (r_begin < r_end && *r_begin == '\n') r_begin++;
        while (body < end && *body == '\n') body++;
    }
    puts_(b, "<|im_start|>assistant\n");
    if (after_query && (last || r_end > r_begin)) {
        puts_(b, "<think>\n");
        put_stripped(b, r_begin, r_end, 1, 1);
        puts_(b, "\n</think>\n\n");
        put_stripped(b, body, end, 1, 0);
    } else {
        put(b, body, (size_t)(end - body));
    }
    puts_(b, "<|im_end|>\n");
}

static void render_chatml(const chat_template *t, sbuf *b, const chat_message *msgs, size_t n) {
    size_t first = 0;
    if (t->qwen_rules && n > 0 && is_role(&msgs[0], "system")) {
        chatml_turn(b, "system", msgs[0].content);
        first = 1;
    } else if (t->default_system && (n == 0 || !is_role(&msgs[0], "system"))) {
        chatml_turn(b, "system", t->default_system);
    }
    size_t query = t->qwen3_think && n > 0 ? last_query(msgs, n) : 0;
    for (size_t i = first; i < n; i++) {
        const chat_message *m = &msgs[i];
        if (t->qwen_rules && is_role(m, "tool")) {
            if (i == 0 || !is_role(&msgs[i - 1], "tool")) puts_(b, "<|im_start|>user");
            puts_(b, "\n<tool_response>\n");
            puts_(b, m->content);
            puts_(b, "\n</tool_response>");
            if (i + 1 == n || !is_role(&msgs[i + 1], "tool")) puts_(b, "<|im_end|>\n");
        } else if (t->qwen3_think && is_role(m, "assistant")) {
            qwen3_assistant(b, m->content, i > query, i + 1 == n);
        } else if (!t->qwen_rules || is_role(m, "user") || is_role(m, "system") || is_role(m, "assistant")) {
            chatml_turn(b, m->role, m->content);
        }
    }
}

// Jinja's trim: leading and trailing whitespace.
static void put_trimmed(sbuf *b, const char *s) {
    const char *e = s + strlen(s);
    while (s < e && strchr(" \t\n\r\v\f", *s)) s++;
    while (e > s && strchr(" \t\n\r\v\f", e[-1])) e--;
    put(b, s, (size_t)(e - s));
}

static void render_llama3(sbuf *b, const chat_message *msgs, size_t n) {
    puts_(b, "<|begin_of_text|>");
    for (size_t i = 0; i < n; i++) {
        puts_(b, "<|start_header_id|>");
        puts_(b, msgs[i].role);
        puts_(b, "<|end_header_id|>\n\n");
        put_trimmed(b, msgs[i].content);
        puts_(b, "<|eot_id|>");
    }
}

rlc_status chat_render(const chat_template *t, const chat_message *msgs, size_t n, int add_generation_prompt,
                       char **text, size_t *len) {
    *text = NULL;
    *len = 0;
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content) return rlc_errorf(RLC_ERR_ARG, "chat: message %zu has no role or content", i);
    if (n == 0 && t->qwen_rules) return rlc_errorf(RLC_ERR_ARG, "chat: the %s template needs at least one message", t->name);
    sbuf b = {0};
    put(&b, "", 0);
    if (t->format == CHAT_CHATML) {
        render_chatml(t, &b, msgs, n);
        if (add_generation_prompt) puts_(&b, "<|im_start|>assistant\n");
    } else if (t->format == CHAT_LLAMA3) {
        render_llama3(&b, msgs, n);
        if (add_generation_prompt) puts_(&b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
    } else {
        for (size_t i = 0; i < n; i++) {
            puts_(&b, msgs[i].role);
            puts_(&b, ": ");
            puts_(&b, msgs[i].content);
            puts_(&b, "\n");
        }
        if (add_generation_prompt) puts_(&b, "assistant: ");
    }
    if (b.failed) {
        rlc_free(b.p);
        return rlc_errorf(RLC_ERR_NOMEM, "chat: out of memory");
    }
    *text = b.p;  // handed over to the caller
    *len = b.n;
    return RLC_OK;
}

// params.c: the parameter table and the flat parameter buffer.
// The table lists every tensor a configuration needs, in Hugging Face names
// and shapes; one aligned allocation holds them all and the typed pointers of
// actor_params are carved out of it (llm.c's malloc_and_point_parameters).
#include "params.h"

#include <stdio.h>   // snprintf
#include <string.h>  // memset, strcmp

#include "core/alloc.h"  // rlc_malloc_aligned, rlc_calloc, rlc_free

// Each tensor starts at a multiple of 16 floats (64 bytes) in the buffer.
#define PARAMS_ALIGN_FLOATS 16

// The table under construction: entries are appended with table_add, which
// assigns offsets as it goes.
typedef struct {
    actor_tensor_info *t;  // (cap)
    int n, cap;
    size_t numel;  // floats used so far, padding included
} table;

static void table_add(table *tb, const char *name, int rows, int cols, int ndim) {
    actor_tensor_info *e = &tb->t[tb->n++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->ndim = ndim;
    e->shape[0] = rows;
    e->shape[1] = cols;
    e->numel = (size_t)rows * (size_t)cols;
    e->offset = tb->numel;
    size_t padded = (e->numel + PARAMS_ALIGN_FLOATS - 1) / PARAMS_ALIGN_FLOATS * PARAMS_ALIGN_FLOATS;
    tb->numel += padded;
}

static void add_matrix(table *tb, const char *name, int rows, int cols) {
    table_add(tb, name, rows, cols, 2);
}

static void add_vector(table *tb, const char *name, int n) { table_add(tb, name, n, 1, 1); }

// Tensors of one layer, in the order transformers' state_dict lists them.
static int layer_tensor_count(const actor_config *c) {
    return 9 + (c->attn_bias ? 3 : 0) + (c->qk_norm ? 2 : 0);
}

static void add_layer(table *tb, const actor_config *c, int l) {
    const int C = c->hidden_size, D = c->head_dim, I = c->intermediate_size;
    const int HD = c->n_heads * D, KVD = c->n_kv_heads * D;
    char name[ACTOR_MAX_NAME];
#define LNAME(suffix) (snprintf(name, sizeof name, "model.layers.%d.%s", l, suffix), name)
    add_vector(tb, LNAME("input_layernorm.weight"), C);
    add_matrix(tb, LNAME("self_attn.q_proj.weight"), HD, C);
    if (c->attn_bias) add_vector(tb, LNAME("self_attn.q_proj.bias"), HD);
    add_matrix(tb, LNAME("self_attn.k_proj.weight"), KVD, C);
    if (c->attn_bias) add_vector(tb, LNAME("self_attn.k_proj.bias"), KVD);
    add_matrix(tb, LNAME("self_attn.v_proj.weight"), KVD, C);
    if (c->attn_bias) add_vector(tb, LNAME("self_attn.v_proj.bias"), KVD);
    add_matrix(tb, LNAME("self_attn.o_proj.weight"), C, HD);
    if (c->qk_norm) {
        add_vector(tb, LNAME("self_attn.q_norm.weight"), D);
        add_vector(tb, LNAME("self_attn.k_norm.weight"), D);
    }
    add_vector(tb, LNAME("post_attention_layernorm.weight"), C);
    add_matrix(tb, LNAME("mlp.gate_proj.weight"), I, C);
    add_matrix(tb, LNAME("mlp.up_proj.weight"), I, C);
    add_matrix(tb, LNAME("mlp.down_proj.weight"), C, I);
#undef LNAME
}

// Fills the table for `c`; tb->t must hold the count that params_count gives.
static void build_table(table *tb, const actor_config *c) {
    add_matrix(tb, "model.embed_tokens.weight", c->vocab_size, c->hidden_size);
    for (int l = 0; l < c->n_layers; l++) add_layer(tb, c, l);
    add_vector(tb, "model.norm.weight", c->hidden_size);
    if (!c->tie_embeddings) add_matrix(tb, "lm_head.weight", c->vocab_size, c->hidden_size);
}

static int params_count(const actor_config *c) {
    return 2 + c->n_layers * layer_tensor_count(c) + (c->tie_embeddings ? 0 : 1);
}

// The pointer for `name` into the buffer, or NULL when the table lacks it.
static float *ptr_of(const actor_params *p, const char *name) {
    const actor_tensor_info *e = actor_params_find(p, name);
    return e ? p->data + e->offset : NULL;
}

static void point_layer(actor_params *p, int l) {
    actor_layer_params *ly = &p->layers[l];
    char name[ACTOR_MAX_NAME];
#define LPTR(suffix) (snprintf(name, sizeof name, "model.layers.%d.%s", l, suffix), ptr_of(p, name))
    ly->attn_norm = LPTR("input_layernorm.weight");
    ly->wq = LPTR("self_attn.q_proj.weight");
    ly->bq = LPTR("self_attn.q_proj.bias");
    ly->wk = LPTR("self_attn.k_proj.weight");
    ly->bk = LPTR("self_attn.k_proj.bias");
    ly->wv = LPTR("self_attn.v_proj.weight");
    ly->bv = LPTR("self_attn.v_proj.bias");
    ly->wo = LPTR("self_attn.o_proj.weight");
    ly->q_norm = LPTR("self_attn.q_norm.weight");
    ly->k_norm = LPTR("self_attn.k_norm.weight");
    ly->mlp_norm = LPTR("post_attention_layernorm.weight");
    ly->w_gate = LPTR("mlp.gate_proj.weight");
    ly->w_up = LPTR("mlp.up_proj.weight");
    ly->w_down = LPTR("mlp.down_proj.weight");
#undef LPTR
}

static void point_params(actor_params *p, int n_layers) {
    p->embed = ptr_of(p, "model.embed_tokens.weight");
    p->final_norm = ptr_of(p, "model.norm.weight");
    p->lm_head = ptr_of(p, "lm_head.weight");
    if (!p->lm_head) p->lm_head = p->embed;  // tied
    for (int l = 0; l < n_layers; l++) point_layer(p, l);
}

// Only the sizes matter to the table (the rest of the config may be unset).
static rlc_status check_sizes(const actor_config *c) {
    if (c->vocab_size <= 0 || c->hidden_size <= 0 || c->n_layers <= 0 || c->n_heads <= 0 ||
        c->n_kv_heads <= 0 || c->head_dim <= 0 || c->intermediate_size <= 0 ||
        c->n_heads % c->n_kv_heads != 0)
        return rlc_errorf(RLC_ERR_ARG,
                          "actor_params_create: bad sizes (V=%d C=%d L=%d H=%d KV=%d D=%d I=%d)",
                          c->vocab_size, c->hidden_size, c->n_layers, c->n_heads, c->n_kv_heads,
                          c->head_dim, c->intermediate_size);
    return RLC_OK;
}

rlc_status actor_params_create(const actor_config *c, actor_params *out) {
    memset(out, 0, sizeof *out);
    RLC_TRY(check_sizes(c));
    table tb = {0};
    tb.cap = params_count(c);
    tb.t = rlc_calloc((size_t)tb.cap, sizeof *tb.t);
    out->layers = rlc_calloc((size_t)c->n_layers, sizeof *out->layers);
    if (!tb.t || !out->layers) goto nomem;
    build_table(&tb, c);
    out->tensors = tb.t;
    out->n_tensors = tb.n;
    out->numel = tb.numel;
    out->data = rlc_malloc_aligned(tb.numel * sizeof(float));
    if (!out->data) goto nomem;
    memset(out->data, 0, tb.numel * sizeof(float));
    point_params(out, c->n_layers);
    return RLC_OK;
nomem:
    rlc_free(tb.t);
    rlc_free(out->layers);
    memset(out, 0, sizeof *out);
    return rlc_errorf(RLC_ERR_NOMEM, "actor_params_create: cannot allocate %zu parameters",
                      tb.numel);
}

void actor_params_free(actor_params *p) {
    if (!p) return;
    rlc_free_aligned(p->data);
    rlc_free(p->tensors);
    rlc_free(p->layers);
    memset(p, 0, sizeof *p);
}

const actor_tensor_info *actor_params_find(const actor_params *p, const char *name) {
    for (int i = 0; i < p->n_tensors; i++)
        if (strcmp(p->tensors[i].name, name) == 0) return &p->tensors[i];
    return NULL;
}

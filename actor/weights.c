// weights.c: fills the flat parameter buffer from safetensors checkpoints and
// writes it back, tensor by tensor through the parameter table.
#include "weights.h"

#include <stdio.h>  // snprintf

#include "core/alloc.h"   // rlc_calloc, rlc_free
#include "safetensors.h"  // safetensors_set_open, safetensors_to_f32, safetensors_write

// "(a, b)" for messages.
static const char *shape_str(char *buf, size_t cap, const int64_t *shape, int ndim) {
    size_t at = 0;
    at += (size_t)snprintf(buf, cap, "(");
    for (int d = 0; d < ndim && at < cap; d++)
        at += (size_t)snprintf(buf + at, cap - at, d ? ", %lld" : "%lld", (long long)shape[d]);
    if (at < cap) snprintf(buf + at, cap - at, ")");
    return buf;
}

static int shape_matches(const actor_tensor_info *e, const safetensors_tensor *t) {
    if (t->ndim != e->ndim) return 0;
    if (t->shape[0] != e->shape[0]) return 0;
    return e->ndim == 1 || t->shape[1] == e->shape[1];
}

static rlc_status load_tensor(const safetensors_set *set, const actor_tensor_info *e,
                              float *dst) {
    const char *file = NULL;
    const safetensors_tensor *t = safetensors_set_find(set, e->name, &file);
    if (!t)
        return rlc_errorf(RLC_ERR_FORMAT, "%s: missing tensor %s", safetensors_set_path(set),
                          e->name);
    if (!shape_matches(e, t)) {
        char want[64], got[200];
        int64_t es[2] = {e->shape[0], e->shape[1]};
        return rlc_errorf(RLC_ERR_FORMAT, "%s: tensor %s: expected shape %s, found %s", file,
                          e->name, shape_str(want, sizeof want, es, e->ndim),
                          shape_str(got, sizeof got, t->shape, t->ndim));
    }
    rlc_status s = safetensors_to_f32(t, dst);
    if (s != RLC_OK) return rlc_error_wrap(s, "%s", file);
    return RLC_OK;
}

rlc_status actor_weights_load(const char *dir, const actor_config *cfg, actor_params *p) {
    if (!p->data || !p->tensors)
        return rlc_errorf(RLC_ERR_ARG, "actor_weights_load: params not created");
    safetensors_set *set;
    RLC_TRY(safetensors_set_open(dir, &set));
    rlc_status s = RLC_OK;
    for (int i = 0; i < p->n_tensors && s == RLC_OK; i++)
        s = load_tensor(set, &p->tensors[i], p->data + p->tensors[i].offset);
    safetensors_set_close(set);
    (void)cfg;  // the table in p was built from cfg
    return s;
}

rlc_status actor_weights_save(const char *path, const actor_params *p) {
    safetensors_entry *t = rlc_calloc((size_t)(p->n_tensors ? p->n_tensors : 1), sizeof *t);
    if (!t) return rlc_errorf(RLC_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < p->n_tensors; i++) {
        const actor_tensor_info *e = &p->tensors[i];
        t[i].name = e->name;
        t[i].ndim = e->ndim;
        t[i].shape[0] = e->shape[0];
        t[i].shape[1] = e->shape[1];
        t[i].data = p->data + e->offset;
    }
    rlc_status s = safetensors_write(path, t, p->n_tensors, SAFETENSORS_DTYPE_F32);
    rlc_free(t);
    return s;
}

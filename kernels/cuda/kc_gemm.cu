// kc_gemm.cu: GEMMs through cuBLASLt (kc_gemm.h). Row-major C = op(A) op(B)
// is run as the column-major product C^T = op(B)^T op(A)^T: a row-major (r, c)
// matrix with leading dimension ld is the column-major (c, r) matrix with the
// same ld, so cuBLASLt's "A" is our B and its "B" is our A, and no data moves.
// The compute type is CUBLAS_COMPUTE_32F in both dtypes (float32 inputs use
// the exact float32 path, never TF32). Descriptors, layouts and the algorithm
// the heuristic picks are cached per shape (and per pointer alignment, which
// the heuristic's choice depends on) in a small per-thread cache.
#include <stdint.h>  // uintptr_t, uint32_t, uint64_t
#include <string.h>  // memset, memcmp

#include "kc_gemm.h"
#include "kc_internal.cuh"

// ---- errors -----------------------------------------------------------------

// The op name kc_sync reports for a failed cuBLASLt call: string literals, so
// that the pointer stays valid however long the error waits for kc_sync.
static const char *lt_status_op(cublasStatus_t s) {
    switch (s) {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "kc_gemm: cuBLASLt: CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "kc_gemm: cuBLASLt: CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "kc_gemm: cuBLASLt: CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "kc_gemm: cuBLASLt: CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "kc_gemm: cuBLASLt: CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "kc_gemm: cuBLASLt: CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "kc_gemm: cuBLASLt: CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "kc_gemm: cuBLASLt: CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "kc_gemm: cuBLASLt: CUBLAS_STATUS_LICENSE_ERROR";
    default: return "kc_gemm: cuBLASLt: unknown status";
    }
}

static void lt_record(kc_ctx *c, cublasStatus_t s) {
    if (s != CUBLAS_STATUS_SUCCESS) kc_record(c, cudaErrorUnknown, lt_status_op(s));
}

// ---- plans: descriptors, layouts and the algorithm for one shape -------------

namespace {  // the types and kernels of this file stay out of the other .cu files' way

typedef struct gemm_key {
    cublasLtHandle_t lt;
    int device;
    int dt_ab, dt_c, trans_a, trans_b;
    int m, n, k, lda, ldb, ldc;
    int bias;                                      // BIAS epilogue (bias dtype = dt_c)
    uint32_t align_a, align_b, align_c, align_bias;  // pointer alignment in bytes, <= 256
    size_t workspace_bytes;
} gemm_key;

typedef struct gemm_plan {
    gemm_key key;
    int valid;
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t la, lb, lc;  // cuBLASLt's A (our B), B (our A), C = D
    cublasLtMatmulAlgo_t algo;
} gemm_plan;

static void plan_destroy(gemm_plan *p) {
    if (p->op) cublasLtMatmulDescDestroy(p->op);
    if (p->la) cublasLtMatrixLayoutDestroy(p->la);
    if (p->lb) cublasLtMatrixLayoutDestroy(p->lb);
    if (p->lc) cublasLtMatrixLayoutDestroy(p->lc);
    memset(p, 0, sizeof *p);
}

enum { GEMM_CACHE = 64 };

// Per thread, so that contexts driven from different threads never share it;
// the descriptors are host objects, released when the thread exits.
struct gemm_cache {
    gemm_plan plans[GEMM_CACHE] = {};
    int next = 0;  // round-robin victim once full
    ~gemm_cache() {
        for (int i = 0; i < GEMM_CACHE; i++) plan_destroy(&plans[i]);
    }
};
}  // namespace

static thread_local gemm_cache g_cache;

static uint32_t ptr_align(const void *p) {
    uintptr_t u = (uintptr_t)p;
    uint32_t a = 256;
    while (a > 1 && (u % a) != 0) a >>= 1;
    return a;
}

static cudaDataType_t cuda_type(kc_dtype dt) { return dt == KC_BF16 ? CUDA_R_16BF : CUDA_R_32F; }

#define LT_TRY(stmt)                                      \
    do {                                                  \
        cublasStatus_t lt_try_s_ = (stmt);                \
        if (lt_try_s_ != CUBLAS_STATUS_SUCCESS) return lt_try_s_; \
    } while (0)

// Fills p for key k (bias: the bias pointer, whose value the heuristic reads
// for its alignment). On failure p is left for plan_destroy.
static cublasStatus_t plan_create(gemm_plan *p, const gemm_key *k, const void *bias) {
    memset(p, 0, sizeof *p);
    p->key = *k;
    cudaDataType_t tab = cuda_type((kc_dtype)k->dt_ab), tc = cuda_type((kc_dtype)k->dt_c);
    LT_TRY(cublasLtMatmulDescCreate(&p->op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    cublasOperation_t op_a = k->trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;  // cuBLASLt A = our B
    cublasOperation_t op_b = k->trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;  // cuBLASLt B = our A
    LT_TRY(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof op_a));
    LT_TRY(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof op_b));
    if (k->bias) {
        cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
        int32_t bias_type = (int32_t)tc;
        LT_TRY(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
        LT_TRY(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type,
                                              sizeof bias_type));
        LT_TRY(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    }
    // Column-major shapes of the stored matrices (before the transposes):
    // our B (k, n) row-major is (n, k) column-major, or (k, n) when trans_b
    // (stored (n, k) row-major); our A likewise; C^T is (n, m).
    uint64_t a_rows = k->trans_b ? k->k : k->n, a_cols = k->trans_b ? k->n : k->k;
    uint64_t b_rows = k->trans_a ? k->m : k->k, b_cols = k->trans_a ? k->k : k->m;
    LT_TRY(cublasLtMatrixLayoutCreate(&p->la, tab, a_rows, a_cols, k->ldb));
    LT_TRY(cublasLtMatrixLayoutCreate(&p->lb, tab, b_rows, b_cols, k->lda));
    LT_TRY(cublasLtMatrixLayoutCreate(&p->lc, tc, (uint64_t)k->n, (uint64_t)k->m, k->ldc));

    cublasLtMatmulPreference_t pref = NULL;
    LT_TRY(cublasLtMatmulPreferenceCreate(&pref));
    uint64_t ws = k->workspace_bytes;
    uint32_t al_a = k->align_b, al_b = k->align_a, al_c = k->align_c;  // swapped with the operands
    cublasStatus_t s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                                            sizeof ws);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al_a,
                                                 sizeof al_a);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al_b,
                                                 sizeof al_b);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al_c,
                                                 sizeof al_c);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al_c,
                                                 sizeof al_c);
    cublasLtMatmulHeuristicResult_t res;
    memset(&res, 0, sizeof res);
    int found = 0;
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulAlgoGetHeuristic(k->lt, p->op, p->la, p->lb, p->lc, p->lc, pref, 1, &res, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    if (s != CUBLAS_STATUS_SUCCESS) return s;
    if (found < 1 || res.state != CUBLAS_STATUS_SUCCESS) return CUBLAS_STATUS_NOT_SUPPORTED;
    p->algo = res.algo;
    p->valid = 1;
    return CUBLAS_STATUS_SUCCESS;
}

// The cached plan for k, creating it (and evicting the oldest) on a miss.
static cublasStatus_t plan_get(const gemm_key *k, const void *bias, gemm_plan **out) {
    gemm_cache *gc = &g_cache;
    for (int i = 0; i < GEMM_CACHE; i++)
        if (gc->plans[i].valid && !memcmp(&gc->plans[i].key, k, sizeof *k)) {
            *out = &gc->plans[i];
            return CUBLAS_STATUS_SUCCESS;
        }
    gemm_plan *p = &gc->plans[gc->next];
    gc->next = (gc->next + 1) % GEMM_CACHE;
    plan_destroy(p);
    cublasStatus_t s = plan_create(p, k, bias);
    if (s != CUBLAS_STATUS_SUCCESS) {
        plan_destroy(p);
        return s;
    }
    *out = p;
    return CUBLAS_STATUS_SUCCESS;
}

// ---- kernels ----------------------------------------------------------------

namespace {

// C (m, n; ldc) = beta * C: the k == 0 product (cuBLASLt wants k >= 1).
template <typename T>
__global__ void scale_kernel(T *C, int m, int n, int ldc, float beta) {
    size_t total = (size_t)m * n;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t r = i / n, j = i % n, at = r * ldc + j;
        kc_st(C, at, beta == 0.0f ? 0.0f : beta * kc_ld(C, at));
    }
}

// out (n, d) += bias (d) broadcast over the rows (when the epilogue is unavailable).
template <typename T>
__global__ void bias_add_kernel(T *out, const T *bias, int n, int d) {
    size_t total = (size_t)n * d;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x)
        kc_st(out, i, kc_ld(out, i) + kc_ld(bias, i % d));
}

// db (d) += column sums of x (n, d). Block (32, 32): threadIdx.x picks one of
// 32 adjacent columns (coalesced rows), threadIdx.y strides over the rows;
// the 32 partial sums of a column are then added in a fixed order.
template <typename T>
__global__ void colsum_add_kernel(float *db, const T *x, int n, int d) {
    __shared__ float part[32][33];
    int col = blockIdx.x * 32 + threadIdx.x;
    float acc = 0.0f;
    if (col < d)
        for (int r = threadIdx.y; r < n; r += 32) acc += kc_ld(x, (size_t)r * d + col);
    part[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && col < d) {
        float s = 0.0f;
        for (int i = 0; i < 32; i++) s += part[i][threadIdx.x];
        db[col] += s;
    }
}

}  // namespace

// ---- launchers --------------------------------------------------------------

// Runs one GEMM; bias (dtype dt_c, length n) only through the epilogue. Returns
// the cuBLASLt status without recording it, so that kc_matmul can fall back.
static cublasStatus_t gemm_run(kc_ctx *c, kc_dtype dt_ab, kc_dtype dt_c, int trans_a, int trans_b, int m, int n,
                               int k, float alpha, const void *A, int lda, const void *B, int ldb, float beta,
                               void *C, int ldc, const void *bias) {
    gemm_key key;
    memset(&key, 0, sizeof key);  // the padding takes part in memcmp
    key.lt = c->lt;
    key.device = c->device;
    key.dt_ab = dt_ab, key.dt_c = dt_c, key.trans_a = trans_a != 0, key.trans_b = trans_b != 0;
    key.m = m, key.n = n, key.k = k, key.lda = lda, key.ldb = ldb, key.ldc = ldc;
    key.bias = bias != NULL;
    key.align_a = ptr_align(A), key.align_b = ptr_align(B), key.align_c = ptr_align(C);
    key.align_bias = bias ? ptr_align(bias) : 0;
    key.workspace_bytes = c->workspace_bytes;
    gemm_plan *p = NULL;
    cublasStatus_t s = plan_get(&key, bias, &p);
    if (s != CUBLAS_STATUS_SUCCESS) return s;
    if (bias) LT_TRY(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    return cublasLtMatmul(c->lt, p->op, &alpha, B, p->la, A, p->lb, &beta, C, p->lc, C, p->lc, &p->algo,
                          c->workspace, c->workspace_bytes, c->stream);
}

// Checks the arguments of kc_gemm; records and returns 0 when they are wrong.
static int gemm_args_ok(kc_ctx *c, kc_dtype dt_ab, kc_dtype dt_c, int trans_a, int trans_b, int m, int n, int k,
                        int lda, int ldb, int ldc) {
    if (dt_ab == KC_F32 && dt_c != KC_F32) {
        kc_record(c, cudaErrorInvalidValue, "kc_gemm: float32 A and B need a float32 C");
        return 0;
    }
    if (m < 0 || n < 0 || k < 0) {
        kc_record(c, cudaErrorInvalidValue, "kc_gemm: negative dimension");
        return 0;
    }
    int min_lda = trans_a ? m : k, min_ldb = trans_b ? k : n;
    if (lda < (min_lda > 1 ? min_lda : 1) || ldb < (min_ldb > 1 ? min_ldb : 1) || ldc < (n > 1 ? n : 1)) {
        kc_record(c, cudaErrorInvalidValue, "kc_gemm: leading dimension too small");
        return 0;
    }
    return 1;
}

extern "C" void kc_gemm(kc_ctx *c, kc_dtype dt_ab, kc_dtype dt_c, int trans_a, int trans_b, int m, int n, int k,
                        float alpha, const void *A, int lda, const void *B, int ldb, float beta, void *C,
                        int ldc) {
    if (!gemm_args_ok(c, dt_ab, dt_c, trans_a, trans_b, m, n, k, lda, ldb, ldc)) return;
    if (m == 0 || n == 0) return;
    if (k == 0) {
        if (beta == 1.0f) return;
        unsigned g = kc_blocks((size_t)m * n, 256);
        KC_DISPATCH(dt_c, T, scale_kernel<T><<<g, 256, 0, c->stream>>>((T *)C, m, n, ldc, beta));
        kc_launched(c, "kc_gemm (k = 0)");
        return;
    }
    lt_record(c, gemm_run(c, dt_ab, dt_c, trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, NULL));
}

extern "C" void kc_matmul(kc_ctx *c, kc_dtype dt, void *out, const void *x, const void *w, const void *bias, int n,
                          int d_in, int d_out) {
    if (n <= 0 || d_out <= 0) return;
    if (bias && d_in > 0) {
        // out (n, d_out) = x (n, d_in) @ w^T, w stored (d_out, d_in); the
        // BIAS epilogue adds bias along the rows of the column-major D (d_out, n).
        cublasStatus_t s = gemm_run(c, dt, dt, 0, 1, n, d_out, d_in, 1.0f, x, d_in, w, d_in, 0.0f, out, d_out, bias);
        if (s == CUBLAS_STATUS_SUCCESS) return;
        // No algorithm with the epilogue (an alignment or dtype it does not
        // take): the plain product and a broadcast kernel.
    }
    kc_gemm(c, dt, dt, 0, 1, n, d_out, d_in, 1.0f, x, d_in, w, d_in, 0.0f, out, d_out);
    if (bias) {
        unsigned g = kc_blocks((size_t)n * d_out, 256);
        KC_DISPATCH(dt, T, bias_add_kernel<T><<<g, 256, 0, c->stream>>>((T *)out, (const T *)bias, n, d_out));
        kc_launched(c, "kc_matmul (bias)");
    }
}

extern "C" void kc_matmul_backward(kc_ctx *c, kc_dtype dt, void *dx, float *dw, float *db, const void *dout,
                                   const void *x, const void *w, int n, int d_in, int d_out, int accumulate) {
    if (n <= 0) {
        // No rows: dx has none either; dw and db gain nothing.
        return;
    }
    // dx (n, d_in) = dout (n, d_out) @ w (d_out, d_in)
    if (dx && d_in > 0)
        kc_gemm(c, dt, dt, 0, 0, n, d_in, d_out, 1.0f, dout, d_out > 0 ? d_out : 1, w, d_in, accumulate ? 1.0f : 0.0f,
                dx, d_in);
    // dw (d_out, d_in) += dout^T (d_out, n) @ x (n, d_in); dout stored (n, d_out)
    if (dw && d_in > 0 && d_out > 0)
        kc_gemm(c, dt, KC_F32, 1, 0, d_out, d_in, n, 1.0f, dout, d_out, x, d_in, 1.0f, dw, d_in);
    if (db && d_out > 0) {
        dim3 block(32, 32);
        unsigned g = (unsigned)((d_out + 31) / 32);
        KC_DISPATCH(dt, T, colsum_add_kernel<T><<<g, block, 0, c->stream>>>(db, (const T *)dout, n, d_out));
        kc_launched(c, "kc_matmul_backward (db)");
    }
}

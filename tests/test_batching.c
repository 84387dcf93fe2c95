// test_batching.c: first-fit packing into token-budget rows, targets with the
// prompt and each document's last token masked, the step-wide token count
// that the NLL is divided by, and the error paths.
#include <string.h>  // memcmp

#include "core/core.h"
#include "learner/batching.h"
#include "test.h"

static void test_first_fit(void) {
    // lengths 5, 3, 7, 2, 4 into rows of 8: [s0 s1] [s2] [s3 s4]
    int t0[] = {10, 11, 12, 13, 14}, t1[] = {20, 21, 22}, t2[] = {30, 31, 32, 33, 34, 35, 36};
    int t3[] = {40, 41}, t4[] = {50, 51, 52, 53};
    unsigned char m0[] = {0, 0, 1, 1, 1};  // a 2-token prompt
    unsigned char m2[] = {0, 0, 0, 0, 0, 0, 1};
    unsigned char m3[] = {0, 0};           // nothing trained
    batch_sample s[] = {{t0, m0, 5}, {t1, NULL, 3}, {t2, m2, 7}, {t3, m3, 2}, {t4, NULL, 4}};
    batch_packer *p;
    CHECK_OK(batch_packer_create(8, &p));
    if (!p) return;
    CHECK_OK(batch_packer_pack(p, s, 5));
    CHECK(batch_packer_rows(p) == 3);
    CHECK(batch_packer_tokens(p) == 21);
    // targets: s0 3, s1 2, s2 1, s3 0, s4 3
    CHECK_MSG(batch_packer_targets(p) == 9, "targets %ld", batch_packer_targets(p));

    const actor_batch *b = batch_packer_row(p, 0);
    int want_tok0[] = {10, 11, 12, 13, 14, 20, 21, 22};
    int want_tgt0[] = {-1, 12, 13, 14, -1, 21, 22, -1};
    int want_cu0[] = {0, 5, 8};
    CHECK(b && b->n_tokens == 8 && b->n_seqs == 2);
    if (b) {
        CHECK(memcmp(b->tokens, want_tok0, sizeof want_tok0) == 0);
        CHECK(memcmp(b->targets, want_tgt0, sizeof want_tgt0) == 0);
        CHECK(memcmp(b->cu_seqlens, want_cu0, sizeof want_cu0) == 0);
    }
    b = batch_packer_row(p, 1);
    int want_tgt1[] = {-1, -1, -1, -1, -1, 36, -1};
    CHECK(b && b->n_tokens == 7 && b->n_seqs == 1 && b->cu_seqlens[1] == 7);
    if (b) CHECK(memcmp(b->targets, want_tgt1, sizeof want_tgt1) == 0);
    b = batch_packer_row(p, 2);
    int want_tok2[] = {40, 41, 50, 51, 52, 53}, want_tgt2[] = {-1, -1, 51, 52, 53, -1}, want_cu2[] = {0, 2, 6};
    CHECK(b && b->n_tokens == 6 && b->n_seqs == 2);
    if (b) {
        CHECK(memcmp(b->tokens, want_tok2, sizeof want_tok2) == 0);
        CHECK(memcmp(b->targets, want_tgt2, sizeof want_tgt2) == 0);
        CHECK(memcmp(b->cu_seqlens, want_cu2, sizeof want_cu2) == 0);
    }
    int n;
    const int *idx = batch_packer_row_samples(p, 2, &n);
    CHECK(n == 2 && idx[0] == 3 && idx[1] == 4);
    CHECK(batch_packer_row(p, 3) == NULL);

    // the NLL over the rows with scale 1/N is the step's token mean
    float lp[8], dlp[8];
    double total = 0;
    long N = batch_packer_targets(p);
    for (int r = 0; r < batch_packer_rows(p); r++) {
        b = batch_packer_row(p, r);
        for (int t = 0; t < b->n_tokens; t++) lp[t] = -0.5f * (float)(t + 1);
        total += batch_nll(b, lp, 1.0 / (double)N, dlp);
        for (int t = 0; t < b->n_tokens; t++)
            CHECK(b->targets[t] < 0 ? dlp[t] == 0 : fabsf(dlp[t] + 1.0f / (float)N) < 1e-9f);
    }
    // row 0 targets at t = 1,2,3,5,6 -> 0.5*(2+3+4+6+7) = 11; row 1 t = 5 -> 3;
    // row 2 t = 2,3,4 -> 0.5*(3+4+5) = 6
    CHECK_MSG(fabs(total - 20.0) < 1e-9, "nll sum %g", total);

    // a second, smaller step reuses the buffers
    CHECK_OK(batch_packer_pack(p, s + 1, 1));
    CHECK(batch_packer_rows(p) == 1 && batch_packer_targets(p) == 2 && batch_packer_row(p, 0)->n_tokens == 3);
    batch_packer_free(p);
}

static void test_budget_and_errors(void) {
    batch_packer *p;
    CHECK(batch_packer_create(1, &p) == RLC_ERR_ARG && p == NULL);
    CHECK_OK(batch_packer_create(4, &p));
    if (!p) return;
    int t[] = {1, 2, 3, 4, 5};
    batch_sample s[] = {{t, NULL, 3}, {t, NULL, 0}, {t, NULL, 5}};
    CHECK(batch_packer_pack(p, s, 3) == RLC_ERR_ARG && strstr(rlc_last_error(), "sample 2 has 5 tokens"));
    CHECK(batch_packer_rows(p) == 0);
    CHECK_OK(batch_packer_pack(p, s, 2));  // the empty sample is left out
    CHECK(batch_packer_rows(p) == 1 && batch_packer_row(p, 0)->n_seqs == 1);
    // many small samples: every row within the budget, every sample placed once
    batch_sample many[40];
    int lens = 0;
    for (int i = 0; i < 40; i++) many[i] = (batch_sample){t, NULL, 1 + (i * 7) % 4}, lens += many[i].n;
    CHECK_OK(batch_packer_pack(p, many, 40));
    int seen[40] = {0}, sum = 0;
    for (int r = 0; r < batch_packer_rows(p); r++) {
        const actor_batch *b = batch_packer_row(p, r);
        CHECK(b->n_tokens <= 4 && b->cu_seqlens[b->n_seqs] == b->n_tokens);
        int n;
        const int *idx = batch_packer_row_samples(p, r, &n);
        CHECK(n == b->n_seqs);
        for (int k = 0; k < n; k++) {
            seen[idx[k]]++;
            CHECK(b->cu_seqlens[k + 1] - b->cu_seqlens[k] == many[idx[k]].n);
        }
        sum += b->n_tokens;
    }
    for (int i = 0; i < 40; i++) CHECK(seen[i] == 1);
    CHECK(sum == lens && batch_packer_tokens(p) == lens);
    batch_packer_free(p);

    // an allocation failure leaves no rows and a message
    CHECK_OK(batch_packer_create(4, &p));
    if (!p) return;
    rlc_alloc_fail_after(0);
    rlc_status st = batch_packer_pack(p, many, 40);
    rlc_alloc_fail_after(-1);
    CHECK(st == RLC_ERR_NOMEM && batch_packer_rows(p) == 0);
    CHECK_OK(batch_packer_pack(p, many, 40));
    batch_packer_free(p);
}

int main(void) {
    test_first_fit();
    test_budget_and_errors();
    return test_finish("test_batching");
}

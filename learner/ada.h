// ada.h: Reinforce-Ada's adaptive sampling (Xiong et al. 2025, "Reinforce-Ada:
// An Adaptive Sampling Framework for Reinforce-Style LLM Training"), the pure
// part: given the rewards of every sample drawn so far for one prompt, is the
// prompt still active, which n samples form its training group, and what
// baseline (mean, std over every sample drawn) its advantages use. The
// learner's loop (learner/rl.c) draws the rounds; docs/algorithms.md
// ("Reinforce-Ada") has the rules.
//
// A sample is positive when its reward >= threshold. With tp = ceil(n / 2)
// and tn = n - tp (n = group_size):
//   balanced  exits once it holds >= tp positives and >= tn negatives;
//   positive  exits once it holds >= 1 positive and >= n samples;
// either way a prompt stops after `rounds` rounds (the fallback). The group
// is cut to n with tp positives and tn negatives when there are that many;
// a class short of its share is filled from the other. Within a class the
// first drawn are kept. Nothing here allocates.
#ifndef RLC_LEARNER_ADA_H
#define RLC_LEARNER_ADA_H

#include "core/status.h"  // rlc_status

typedef enum {
    ADA_MODE_OFF = 0,   // plain GRPO sampling: one request of group_size   ("off")
    ADA_MODE_BALANCED,  // exit on tp positives and tn negatives            ("balanced")
    ADA_MODE_POSITIVE,  // exit on one positive (and n samples)             ("positive")
} ada_mode;

// "off" / "balanced" / "positive" <-> the mode; RLC_ERR_CONFIG lists the names.
rlc_status ada_mode_parse(const char *name, ada_mode *out);
const char *ada_mode_name(ada_mode m);

typedef struct ada_config {
    ada_mode mode;
    int n;             // the training group's size (algorithm.group_size), >= 1
    int rounds;        // rounds at most (algorithm.ada_rounds), >= 1
    int per_round;     // samples per round m (algorithm.ada_samples_per_round), >= 1;
                       // rounds * per_round must reach n
    double threshold;  // positive: reward >= threshold (algorithm.ada_positive_threshold)
} ada_config;

// RLC_OK, or RLC_ERR_CONFIG naming the first bad field.
rlc_status ada_config_check(const ada_config *c);

typedef enum {
    ADA_ACTIVE = 0,    // sample another round
    ADA_EXITED,        // the exit rule holds
    ADA_FALLBACK,      // `rounds` rounds are done and the rule does not hold
} ada_state;

// The state of a prompt after `rounds_done` rounds that drew rewards (count).
ada_state ada_check(const ada_config *c, const double *rewards, int count, int rounds_done);

typedef struct ada_cut {
    int n_keep;        // samples kept: min(n, count)
    int pos_kept;      // positives among them
    int base_n;        // samples in the baseline: count
    double base_mean;  // mean of every reward drawn (exactly r when all are r)
    double base_std;   // their unbiased std (divisor count - 1; 0 for one sample)
} ada_cut;

// The training group: keep[0 .. n_keep) get the indices (ascending) of the
// kept samples; out gets the counts and the baseline. rewards (count),
// keep (n). RLC_ERR_ARG for count < 1 or a NULL array (nothing written).
rlc_status ada_select(const ada_config *c, const double *rewards, int count, int *keep, ada_cut *out);

#endif

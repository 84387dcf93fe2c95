// dataset.h: the learner's data: JSONL sources loaded once, walked in a
// seeded shuffled order per epoch, sampled among sources by weight (the
// experiment's weights or the curriculum's), with the per-source statistics
// the curriculum reads (a sliding window of accuracy and |advantage|).
#ifndef RLC_LEARNER_DATASET_H
#define RLC_LEARNER_DATASET_H

#include <stddef.h>  // size_t
#include <stdint.h>  // uint64_t

#include "core/json.h"    // json_t
#include "core/status.h"

typedef struct lrn_data lrn_data;

// sources: the experiment's data.sources ({name=, path=, weight=}, ...). A
// path may start with $RLC_DATA (the shared data folder). Every record must
// be a JSON object; a bad line is RLC_ERR_FORMAT naming file:line.
rlc_status lrn_data_load(const json_t *sources, uint64_t seed, int shuffle, int window, lrn_data **out);
// One JSONL file as a single source (evaluation sets).
rlc_status lrn_data_load_file(const char *path, lrn_data **out);
void lrn_data_free(lrn_data *d);

int lrn_data_sources(const lrn_data *d);
const char *lrn_data_source_name(const lrn_data *d, int source);
size_t lrn_data_count(const lrn_data *d, int source);
const json_t *lrn_data_record(const lrn_data *d, int source, size_t index);

// Sets the sampling weights (n_sources, >= 0, sum > 0); NULL restores the
// experiment's.
rlc_status lrn_data_set_weights(lrn_data *d, const double *weights);

// The next example: a source drawn by weight, then its next record in this
// epoch's order (a new shuffled order when the source wraps around).
void lrn_data_next(lrn_data *d, int *source, size_t *index);

// Statistics for the curriculum: one sample's accuracy (0..1) and |advantage|.
void lrn_data_observe(lrn_data *d, int source, double accuracy, double abs_adv);
// Window means and run totals of a source.
void lrn_data_stats(const lrn_data *d, int source, long *count, double *accuracy, double *mean_abs_adv,
                    long *seen, double *correct);

// The position of the walk, to save and restore with a checkpoint.
json_t *lrn_data_state(const lrn_data *d);
rlc_status lrn_data_restore(lrn_data *d, const json_t *state);

#endif

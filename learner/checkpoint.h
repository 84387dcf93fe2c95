// checkpoint.h: training checkpoints that resume exactly and that Hugging
// Face transformers loads.
//
// Layout: RUN_DIR/checkpoints/step-N/ holds
//   model.safetensors      the weights, float32, Hugging Face names
//                          (actor_weights_save): from_pretrained loads the folder
//   config.json            the source model's, copied; or written from the
//                          actor_config (a llama2.c source has none)
//   tokenizer files        copied from the source model folder when present
//                          (tokenizer.json, tokenizer_config.json, vocab.json,
//                          merges.txt, ...), plus an explicit tokenizer file
//   optimizer.safetensors  AdamW's moments: "<tensor name>.exp_avg" and
//                          "<tensor name>.exp_avg_sq" per parameter tensor, and
//                          "adamw.meta" = [format version 1, steps, skipped]
//   critic/                PPO only (written by write_extra): the value model,
//                          a transformers *ForTokenClassification folder
//                          (learner/critic.h: config.json, model.safetensors,
//                          optimizer.safetensors)
//   trainer_state.json     {"format": "rlc-trainer-state", "version": 1,
//                          "step": N, "optimizer": {"steps", "skipped"}, ...}
//                          plus the trainer's own fields (data cursor, epoch,
//                          seeds, schedule, loss history tail)
//
// A save writes everything into step-N.tmp/, fsyncs each file and the folder,
// renames the folder to step-N/ and fsyncs RUN_DIR/checkpoints: a crash at
// any point leaves every earlier step-N/ whole, and the rename is the commit.
// Leftover *.tmp folders are ignored by ckpt_latest and removed by the next
// save.
#ifndef RLC_LEARNER_CHECKPOINT_H
#define RLC_LEARNER_CHECKPOINT_H

#include <jansson.h>  // json_t
#include <stddef.h>   // size_t

#include "actor/config.h"  // actor_config
#include "actor/params.h"  // actor_params
#include "actor/safetensors.h"  // safetensors_entry
#include "core/status.h"   // rlc_status
#include "optim.h"         // optim_adamw

#define CKPT_STATE_FORMAT "rlc-trainer-state"
#define CKPT_STATE_VERSION 1
#define CKPT_OPTIM_VERSION 1

typedef struct ckpt_save_args {
    const char *run_dir;           // checkpoints go to run_dir/checkpoints/step-N
    long step;                     // N: the optimizer steps done
    const actor_params *params;
    const actor_config *config;
    const char *model_dir;         // the source model folder, or NULL / a file (llama2.c)
    const char *tokenizer_path;    // a tokenizer file to copy too (e.g. tok512.bin), or NULL
    optim_adamw *optim;            // read only
    const json_t *trainer_state;   // an object of the trainer's fields, or NULL (borrowed)
    int keep_last;                 // after the save, delete all but the newest keep_last (0: keep all)
    // Optional: writes more into the checkpoint's temporary folder `dir`
    // (before trainer_state.json, so an incomplete save is never the latest),
    // e.g. the critic's subfolder. Subfolders may hold plain files only.
    rlc_status (*write_extra)(void *ud, const char *dir);
    void *extra_ud;
} ckpt_save_args;

// Writes the checkpoint of a->step as described above; `dir` (may be NULL)
// receives its path. An existing step-N/ is replaced (moved aside, then
// deleted after the rename). On failure the earlier checkpoints are untouched
// and the partial step-N.tmp/ is removed (left in place after an injected
// failure, as a crash would leave it). RLC_ERR_IO names the file,
// RLC_ERR_NOMEM, RLC_ERR_ARG (missing fields).
rlc_status ckpt_save(const ckpt_save_args *a, char *dir, size_t cap);

// The newest complete checkpoint of run_dir: the step-N/ folder with the
// largest N that holds trainer_state.json, model.safetensors and
// optimizer.safetensors (*.tmp folders and incomplete ones are skipped, the
// latter with a warning). *step = -1 and dir = "" when there is none (not an
// error). RLC_ERR_IO when run_dir/checkpoints exists but cannot be listed.
rlc_status ckpt_latest(const char *run_dir, char *dir, size_t cap, long *step);

// Reads and checks trainer_state.json of a checkpoint folder: valid JSON, the
// format and version above, an integer step (equal to N of a step-N folder)
// and the optimizer counts. *out is a new reference (json_decref it).
// RLC_ERR_IO (missing), RLC_ERR_FORMAT naming the file and the field.
rlc_status ckpt_load_trainer_state(const char *dir, json_t **out);

// Fills o's moments and counts from dir/optimizer.safetensors; every tensor
// of p's table must be there as F32 with its shape. RLC_ERR_IO, RLC_ERR_FORMAT
// (truncated or malformed file, a missing tensor, a wrong shape or version:
// the message names the file and the tensor). On failure o's moments are
// unspecified: the caller stops.
rlc_status ckpt_load_optimizer(const char *dir, const actor_params *p, optim_adamw *o);

// Everything a resume needs: the weights into p (built for cfg), the
// optimizer state, and trainer_state.json (returned in *state, new reference),
// with the optimizer counts of both files checked against each other.
rlc_status ckpt_load(const char *dir, const actor_config *cfg, actor_params *p, optim_adamw *o,
                     json_t **state);

// Creates `path` and its missing parents (mkdir -p). RLC_ERR_IO names the
// folder that could not be created.
rlc_status ckpt_make_dirs(const char *path);

// Writes an HF config.json for cfg (architectures, model_type, sizes, rope,
// eos/bos, torch_dtype float32) to path, fsynced.
rlc_status ckpt_write_config(const char *path, const actor_config *cfg);

// config.json's fields for cfg as ckpt_write_config writes them (a new
// object; NULL when out of memory), for callers that add to it (the critic).
json_t *ckpt_config_json(const actor_config *cfg);
// Writes j to path (indented, sorted keys, exact floats), fsynced.
rlc_status ckpt_write_json(const char *path, const json_t *j);
// Writes optimizer.safetensors for table p and optimizer o (the layout
// above), plus n_extra more float32 tensors (e.g. the critic head's moments;
// may be NULL / 0). ckpt_load_optimizer ignores tensors outside p's table.
rlc_status ckpt_write_optimizer(const char *path, const actor_params *p, optim_adamw *o,
                                const safetensors_entry *extra, int n_extra);

// Test support: the n-th file write (1-based: model.safetensors, config.json,
// the tokenizer files, optimizer.safetensors, write_extra when set,
// trainer_state.json, then the final rename) of every following save fails
// with RLC_ERR_IO, as a crash at that point would; 0 turns it off. The environment variable
// RLC_CKPT_FAIL_AT_WRITE=n does the same for a whole process.
void ckpt_test_fail_at_write(int n);

#endif

// board.h: the in-process weight board. The learner publishes each new
// policy version of its flat weight buffer; rollout workers in the same
// process pick the newest version up between decode steps, copying it into
// their back buffer and swapping (actor_model_swap_params). Readers never
// see a half-written version: the board keeps two slots and a reader copies
// from the slot that was complete when it looked.
#ifndef RLC_BOARD_H
#define RLC_BOARD_H

#include <stddef.h>  // size_t
#include <stdint.h>  // int64_t

#include "status.h"

typedef struct rlc_board rlc_board;

// A board for buffers of exactly `bytes` bytes. Version -1 until the first publish.
rlc_status rlc_board_create(size_t bytes, rlc_board **out);
void rlc_board_free(rlc_board *b);

// Copies `data` (bytes) in as `version` (greater than the last one).
// RLC_ERR_ARG for a smaller version or a size mismatch.
rlc_status rlc_board_publish(rlc_board *b, int64_t version, const void *data, size_t bytes);

// The newest version published (-1: none). Cheap: an atomic load.
int64_t rlc_board_version(const rlc_board *b);

// When a version newer than `have` is on the board, copies it into dst
// (bytes) and sets *version; otherwise leaves dst alone and sets *version = have.
rlc_status rlc_board_fetch(rlc_board *b, int64_t have, void *dst, size_t bytes, int64_t *version);

// Bytes copied out by fetches, and the seconds they took (for metrics).
void rlc_board_stats(const rlc_board *b, double *bytes_out, double *seconds);

#endif

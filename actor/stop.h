// stop.h: stop strings over streamed text. Text is pushed as it is decoded;
// what cannot be the start of a stop string is released at once, the rest is
// held back until it either completes a stop string or cannot.
#ifndef RLC_ACTOR_STOP_H
#define RLC_ACTOR_STOP_H

#include <stddef.h>  // size_t

#include "core/status.h"

typedef struct actor_stop actor_stop;

// stops (n): copied. n may be 0 (everything is released at once).
rlc_status actor_stop_create(const char *const *stops, int n, actor_stop **out);
void actor_stop_free(actor_stop *st);
void actor_stop_reset(actor_stop *st);
// Appends len bytes. *out/*out_len: the bytes now safe to show (borrowed,
// valid until the next call). *matched: 1 when a stop string completed; the
// released bytes then end right before it and the rest is dropped.
rlc_status actor_stop_push(actor_stop *st, const char *text, size_t len, const char **out,
                           size_t *out_len, int *matched);
// Releases what is still held back (at the end of generation).
void actor_stop_flush(actor_stop *st, const char **out, size_t *out_len);

#endif

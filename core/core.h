// core.h: the public face of core/, the shared runtime every module builds on:
// status codes and errors, logging, the allocation hook, arenas, JSON and files.
#ifndef RLC_CORE_H
#define RLC_CORE_H

#include "alloc.h"
#include "arena.h"
#include "fileio.h"
#include "json.h"
#include "log.h"
#include "status.h"

#define RLC_VERSION "0.1.0"

#endif

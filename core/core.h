// core.h: the public face of core/, the shared runtime every module builds on:
// status codes and errors, logging, the allocation hook, arenas, JSON and
// files, the wire protocol and its ZeroMQ transport, the in-process weight board.
#ifndef RLC_CORE_H
#define RLC_CORE_H

#include "alloc.h"
#include "arena.h"
#include "board.h"
#include "checksum.h"
#include "fileio.h"
#include "json.h"
#include "log.h"
#include "protocol.h"
#include "reliable.h"
#include "status.h"
#include "transport.h"
#include "wsync.h"

#define RLC_VERSION "0.1.0"

#endif

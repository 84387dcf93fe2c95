// dist.h: the distributed layer's plain-C half: which rank this process is
// (read from the variables that torchrun, Slurm or Open MPI set) and a
// rendezvous over ZeroMQ in which rank 0 hands one byte blob (the NCCL unique
// id) to every other rank. The NCCL communicator itself is in
// kernels/cuda/kc_nccl.h; nothing here needs CUDA.
//
// Rendezvous wire format (version 1). Every message is one ZeroMQ frame that
// starts with the same 8-byte header; integers are little-endian:
//
//     offset size  field
//     0      4     magic "RLCD"
//     4      2     version (1)
//     6      2     type: 1 HELLO, 2 BLOB, 3 REJECT, 4 ACK
//
//   HELLO  rank -> 0, 24 bytes: header, u32 rank, u32 world, u64 blob length.
//   ACK    rank -> 0, 24 bytes: the same layout as HELLO, sent once the blob
//          arrived, so that rank 0 keeps its socket open until every blob
//          was delivered.
//   BLOB   0 -> rank, 16 + len bytes: header, u64 len, then the blob.
//   REJECT 0 -> rank, 8 + n bytes: header, then n bytes of text (no NUL):
//          why rank 0 gave up (the peer's own mismatch, or another peer's).
//
// Rank 0 binds a ROUTER on tcp://*:MASTER_PORT; the others connect a DEALER
// (without a routing id: rank 0 learns the rank from HELLO) to
// tcp://MASTER_ADDR:MASTER_PORT, which ZeroMQ retries until rank 0 is up.
// Rank 0 answers nobody until all world - 1 HELLOs are in and agree, so the
// rendezvous doubles as a barrier: either every rank gets the blob or every
// rank that rank 0 heard from gets a REJECT.
#ifndef RLC_DIST_H
#define RLC_DIST_H

#include <stddef.h>  // size_t

#include "status.h"  // rlc_status

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    DIST_LAUNCHER_NONE = 0,  // no launcher variables: a single process
    DIST_LAUNCHER_TORCHRUN,  // RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE
    DIST_LAUNCHER_OPENMPI,   // OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK, _LOCAL_SIZE
    DIST_LAUNCHER_SLURM,     // SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NTASKS_PER_NODE
    DIST_LAUNCHER_COUNT
} dist_launcher;

enum { DIST_ADDR_MAX = 256 };

typedef struct {
    int rank, world;            // 0 <= rank < world
    int local_rank;             // rank on this host; -1 when the launcher did not say
    int local_world;            // ranks on this host; 0 when the launcher did not say
    char master_addr[DIST_ADDR_MAX];  // MASTER_ADDR: host name or IP of rank 0; "" when unset
    int master_port;            // MASTER_PORT, 1..65535; 0 when unset
    dist_launcher launcher;     // where rank and world came from
} dist_env;

// "none", "torchrun", "openmpi", "slurm".
const char *dist_launcher_name(dist_launcher l);

// Like getenv: the value of `name`, or NULL when it is not set.
typedef const char *(*dist_lookup_fn)(void *ud, const char *name);

// Fills *e from the environment. The first launcher whose rank variable is set
// wins, in this order: torchrun (RANK), Open MPI (OMPI_COMM_WORLD_RANK), Slurm
// (SLURM_PROCID); Open MPI comes before Slurm because mpirun inside a Slurm
// allocation leaves the SLURM_ variables of its own daemons in the
// environment. With none set: rank 0, world 1, local rank 0 of 1.
// MASTER_ADDR and MASTER_PORT are read for every launcher and are required
// when world > 1. Open MPI and Slurm do not set them (export them yourself,
// e.g. mpirun -x MASTER_ADDR=host -x MASTER_PORT=29500).
// Errors (*e is zeroed): RLC_ERR_CONFIG naming the variable and its value:
// not a decimal integer or out of range, WORLD_SIZE < 1, rank >= world,
// local rank >= local world, a launcher's world variable missing, MASTER_ADDR
// or MASTER_PORT missing when world > 1, a port outside 1..65535, an address
// too long. RLC_ERR_ARG for NULL arguments.
rlc_status dist_env_read(dist_env *e);
rlc_status dist_env_read_from(dist_env *e, dist_lookup_fn lookup, void *ud);

// A single-process env: rank 0, world 1, local rank 0 of 1.
dist_env dist_env_single(void);

// Hands rank 0's `len` bytes at `blob` to every rank: on rank 0 the blob is
// read, on the others it is overwritten. Every rank must pass the same world,
// master address/port and len. world 1 returns at once. Blocks until done or
// timeout_ms (< 0: no limit) has passed in total.
// Errors (nothing is kept open afterwards; on a rank other than 0 the blob is
// left unchanged unless RLC_OK):
//   RLC_ERR_LIMIT  timed out; on rank 0 names the ranks that never said hello
//                  (or never acknowledged), on another rank says rank 0 did
//                  not answer.
//   RLC_ERR_CONFIG on rank 0: a peer's world or blob length differs, its rank
//                  is out of range or a second peer claims the same rank (the
//                  message names the peer's rank); every peer heard from gets
//                  a REJECT. On another rank: rank 0 rejected the rendezvous
//                  (its reason is quoted).
//   RLC_ERR_BAD_MESSAGE a rendezvous message of another version or a
//                  malformed one from a peer that spoke our magic. Frames
//                  without the magic (a stray client) are ignored.
//   RLC_ERR_IO     ZeroMQ failed (rank 0 could not bind MASTER_PORT: names
//                  the endpoint). RLC_ERR_ARG bad arguments, RLC_ERR_NOMEM.
rlc_status dist_rendezvous(const dist_env *e, void *blob, size_t len, int timeout_ms);

// A TCP port that was free on all interfaces a moment ago (bind to port 0,
// read it back, close). Racy by nature: for tests and for launchers that
// start every rank on one host. RLC_ERR_IO when no socket could be bound.
rlc_status dist_find_free_port(int *port);

#ifdef __cplusplus
}
#endif

#endif

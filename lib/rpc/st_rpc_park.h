/* st_rpc_park: JSON-RPC calls that wait for the chain (StateWaitMsg), parked on their HTTP
 * connection (st_http_answer_later) instead of holding a thread each.
 *
 * One thread per park retries every parked call when st_rpc_park_wake is called (the daemon
 * calls it on each new head) and at least once a second. It ends a call, with the call's own
 * error, when its client has hung up (seen within about 100 ms: the wait is freed at once, not
 * when it would have timed out), when its wait time is up, or when the park is freed.
 *
 * Limits are per client, not per node: at most per_client parked calls from one peer address
 * (0: 64), and total in all (0: 4096). st_rpc_park_add refuses past them, naming the limit.
 *
 * Threads: add, wake and wait from any thread. A call's retry and free_call run on the park's
 * thread (free_call also in st_rpc_park_free), never two at once for one call. */
#ifndef ST_RPC_PARK_H
#define ST_RPC_PARK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/st_buf.h"
#include "core/st_err.h"
#include "net/st_http_server.h"

typedef struct st_rpc_park st_rpc_park;

/* Tries a parked call again. give_up NULL: true when it is done, with its HTTP status and
 * response appended to out; false to wait on (out untouched). give_up set ("the client went
 * away", ...): the call must append its error response, saying give_up, and return true. */
typedef bool (*st_rpc_park_retry_fn)(void *call, const char *give_up, int *status, st_buf *out);

st_code st_rpc_park_new(unsigned per_client, unsigned total, st_rpc_park **out, st_err *err);
/* Gives up every parked call ("the server is stopping"), replies, frees them and the park. */
void st_rpc_park_free(st_rpc_park *pk);

/* Parks call on l for at most wait_ms, counted against client (the peer's address). On
 * success the park owns call (freed with free_call after its reply) and l. On failure (a limit,
 * ST_EUNAVAIL, or out of memory) the caller still owns both and must reply through l. */
st_code st_rpc_park_add(st_rpc_park *pk, st_http_later *l, const char *client, int64_t wait_ms, void *call,
                        st_rpc_park_retry_fn retry, void (*free_call)(void *call), st_err *err);

/* Retry the parked calls now: something they wait for may have happened. */
void st_rpc_park_wake(st_rpc_park *pk);
/* Blocks until the next wake or until ms have passed: for a caller that waits on its own thread
 * (a WebSocket session). */
void st_rpc_park_wait(st_rpc_park *pk, unsigned ms);

/* Calls parked now, for the tests and /metrics. */
size_t st_rpc_park_count(st_rpc_park *pk);

#endif

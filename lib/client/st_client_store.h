/* st_client_store: what the storage client remembers, in <repo>/client/client.db (SQLite through
 * st_db; the schema is the embedded SQL in st_client_store.c): the files it imported, with their
 * piece commitments, and the deals it proposed. `spacetime client list-deals` asks each deal's
 * miner and the chain about the deals recorded here, and `client retrieve` finds here the miner
 * that holds a piece. Rows are checked before they are written: a bad one is refused with an
 * error naming the field ("deal record: piece_cid "x" is not a piece CID (baga6ea4sea...)"). */
#ifndef ST_CLIENT_STORE_H
#define ST_CLIENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/st_address.h"
#include "codec/st_cid.h"
#include "core/st_err.h"

#define ST_CLIENT_PATH_MAX 4096
#define ST_CLIENT_PRICE_MAX 80 /* decimal digits of an attoFIL amount, and the NUL */

typedef struct st_client_store st_client_store;

/* Opens <repo>/client/client.db, creating the folder (0700) and the tables. Errors name the
 * file: "the client's records <path>: ...". *out is NULL on failure. */
st_code st_client_store_open(const char *repo, st_client_store **out, st_err *err);
void st_client_store_close(st_client_store *s);

/* A file imported for deals. */
typedef struct st_client_import {
  char piece_cid[ST_CID_STR_MAX]; /* its CommP as a piece CID */
  uint64_t piece_size;            /* padded: a power of two, at least 128 */
  uint64_t payload_size;          /* the file's bytes: at most 127/128 of the piece */
  char path[ST_CLIENT_PATH_MAX];  /* where it was imported from */
  int64_t created;                /* unix seconds */
} st_client_import;

/* Records an import; the same piece from the same path again changes nothing. */
st_code st_client_store_add_import(st_client_store *s, const st_client_import *imp, st_err *err);
/* Every import, oldest first (free(); NULL and 0 on failure or when there is none). */
st_code st_client_store_imports(st_client_store *s, st_client_import **out, size_t *n, st_err *err);

/* A deal this client proposed (and the miner took). */
typedef struct st_client_deal_record {
  char proposal_cid[ST_CID_STR_MAX];
  char miner[ST_ADDR_STR_MAX];  /* the provider, as the client named it */
  char client[ST_ADDR_STR_MAX]; /* the address that signed */
  char piece_cid[ST_CID_STR_MAX];
  uint64_t piece_size, payload_size; /* as in st_client_import */
  char path[ST_CLIENT_PATH_MAX];
  bool verified;
  char price[ST_CLIENT_PRICE_MAX]; /* attoFIL per epoch, decimal */
  int64_t start_epoch, end_epoch;
  int64_t created; /* unix seconds */
} st_client_deal_record;

/* Records a deal; a proposal CID recorded before is ST_EEXIST. */
st_code st_client_store_add_deal(st_client_store *s, const st_client_deal_record *d, st_err *err);
/* Every deal, oldest first (free(); NULL and 0 on failure or when there is none). */
st_code st_client_store_deals(st_client_store *s, st_client_deal_record **out, size_t *n, st_err *err);
/* The miner of the latest deal for piece_cid; *found false (and miner "") when there is none. */
st_code st_client_store_miner_of(st_client_store *s, const char *piece_cid, char miner[ST_ADDR_STR_MAX], bool *found,
                                 st_err *err);

#endif

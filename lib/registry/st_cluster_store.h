/* st_cluster_store: the cluster's tables (migration 0002) and every operation on them, over st_db.
 *
 * Many `spacetime-miner run` processes of one miner, on one host or many, share their work only
 * through these tables: each process joins as a machine, takes sector numbers from one counter,
 * and claims sectors, WindowPoSt partitions, block rounds and fault declarations with leases.
 * There is one entry point, st_cluster_op, so the registry serves each operation as
 * POST /v0/cluster/OP with the same JSON, and a process without a registry runs the very same
 * code on a SQLite file of its own (miner/st_cluster).
 *
 * Leases. A claim is (owner, lease_until), lease_until by the registry's clock (now), so the
 * hosts' clocks do not matter. A row is free when its owner is NULL or its lease has passed; a
 * claim takes a free row with one compare-and-set UPDATE. heartbeat renews every claim of a
 * machine to now + its lease_secs; check renews the rows named and fails unless the machine
 * still owns each one with a live lease, and is what a process calls right before a side
 * effect. Every write of a claimed row is guarded the same way, so a process that lost a claim
 * (it stopped past its lease) changes nothing.
 *
 * Operations (params -> reply; integers are JSON integers, miner is an actor id):
 *   join          {miner, host, pid, roles, version, lease_secs} -> {machine}
 *   heartbeat     {miner, machine} -> {lease_until, renewed}
 *   leave         {miner, machine} -> {released}: its unfinished claims are freed at once
 *   machines      {miner} -> {machines: [{id, host, pid, roles, version, started, last_contact,
 *                 lease_secs, stopped, alive, sealing, wdpost, blocks, declarations}],
 *                 lapsed_sectors: [{number, state, owner, lease_until}], now} (the last four
 *                 of a machine: the unfinished rows it holds now; lapsed_sectors: at most 100
 *                 sectors under way whose holder's lease passed)
 *   sector_new    {miner, min, deal_id?, piece?, piece_size?, deal_end?, pin_host?} -> {number,
 *                 created}: the next number (never below min) in a new Packing row; a deal_id
 *                 that has a row already gives that row's number with created false
 *   sector_claim  {miner, machine, host, group, max, max_retries} -> {sectors: [row...]}: claims
 *                 free sectors (not Proving or Removed, not given up, in group unless group is
 *                 -1, not pinned to another host) until the machine holds max, then lists what
 *                 it holds
 *   sector_update {miner, machine, number, set: {column: value...}, retries_inc?} -> {}:
 *                 columns: state, error, node_id, node_group, root, ticket_epoch, ticket, comm_d,
 *                 comm_r, expiration, precommit_cid, precommit_epoch, commit_cid
 *   sector_list   {miner} -> {sectors: [row...]}, by number
 *   sector_get    {miner, number} -> {sector: row} (ST_ENOENT: no such sector)
 *   claim         {kind, miner, machine, keys: [[k...]...], max?, takeover?} -> {rows: [{key,
 *                 claimed, owner, msg_cid, exit_code, done}...]}, one per key in order. kind and
 *                 its key: wdpost [period_start, deadline, partition], blocks [epoch],
 *                 declarations [period_start, deadline]. A missing row is made and claimed; a
 *                 done row is never claimed. At most max (default: all) keys are claimed.
 *                 takeover false claims only rows that did not exist (blocks: a round is never
 *                 tried by two processes, since two blocks of one miner in a round are a
 *                 consensus fault).
 *   check         {kind, miner, machine, keys} -> {lease_until}; kind may also be sealing, key
 *                 [number]
 *   update        {kind, miner, machine, keys, msg_cid?, exit_code?, done?} -> {}
 *
 * Errors: ST_EINVAL (a param, named), ST_ENOENT (no such machine or sector), ST_ECONFLICT (the
 * machine does not hold a claim it names, with who does). */
#ifndef ST_CLUSTER_STORE_H
#define ST_CLUSTER_STORE_H

#include <jansson.h>
#include <stdint.h>

#include "db/st_db.h"

/* Runs op with params at time now (unix seconds). *reply is a new object on success, NULL on
 * failure. */
st_code st_cluster_op(st_db *db, const char *op, const json_t *params, int64_t now, json_t **reply, st_err *err);

/* For /metrics: rows of (kind, state, count), kind one of machines (state alive or lapsed),
 * sealing (its states), wdpost, blocks and declarations (state done, held or free). *out is
 * a new array of [kind, state, count] arrays; NULL on failure. */
st_code st_cluster_counts(st_db *db, int64_t now, json_t **out, st_err *err);

#endif

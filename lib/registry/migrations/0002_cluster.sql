-- 0002: the cluster. Every `spacetime-miner run` of a miner, its sector numbers, its sealing
-- pipeline and the work its posters share (st_cluster_store.h). A claim is (owner, lease_until):
-- owner is a machines.id, lease_until unix seconds by the registry's clock. A row is free when
-- owner is NULL or lease_until has passed.

CREATE TABLE machines (
  id           @AUTOID@,
  miner        BIGINT NOT NULL CHECK (miner >= 0),
  host         TEXT   NOT NULL,
  pid          BIGINT NOT NULL,
  roles        TEXT   NOT NULL,
  version      TEXT   NOT NULL,
  started      BIGINT NOT NULL,
  last_contact BIGINT NOT NULL,
  lease_secs   BIGINT NOT NULL CHECK (lease_secs > 0),
  stopped      BIGINT
);
CREATE INDEX machines_miner ON machines (miner);

-- The next sector number of each miner: it only grows, so no number is handed out twice.
CREATE TABLE sector_numbers (
  miner       BIGINT PRIMARY KEY CHECK (miner >= 0),
  next_number BIGINT NOT NULL CHECK (next_number >= 0)
);

-- One row per sector, from Packing to Proving (st_sealer's states).
CREATE TABLE sealing (
  miner           BIGINT NOT NULL,
  number          BIGINT NOT NULL,
  state           TEXT   NOT NULL,
  node_id         BIGINT,          -- the storage node holding its files (NULL: the sealer's dist-path)
  node_group      BIGINT,          -- that node's group
  root            TEXT,            -- the files' root on the sealer's host, without a storage node
  pin_host        TEXT,            -- a deal's piece is on this host only
  ticket_epoch    BIGINT,
  ticket          TEXT,
  comm_d          TEXT,
  comm_r          TEXT,
  expiration      BIGINT,
  precommit_cid   TEXT,
  precommit_epoch BIGINT,
  commit_cid      TEXT,
  error           TEXT   NOT NULL DEFAULT '',
  retries         BIGINT NOT NULL DEFAULT 0,
  updated         BIGINT NOT NULL,
  deal_id         BIGINT,
  piece           TEXT,
  piece_size      BIGINT,
  deal_end        BIGINT,
  owner           BIGINT,
  lease_until     BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (miner, number)
);
CREATE INDEX sealing_owner ON sealing (owner);
CREATE UNIQUE INDEX sealing_deal ON sealing (miner, deal_id) WHERE deal_id IS NOT NULL;

-- The posters' work. done: nothing is left to do for the row (landed, or nothing to prove).
CREATE TABLE wdpost (
  miner         BIGINT NOT NULL,
  period_start  BIGINT NOT NULL,
  deadline      BIGINT NOT NULL,
  partition_idx BIGINT NOT NULL,
  owner         BIGINT,
  lease_until   BIGINT NOT NULL DEFAULT 0,
  msg_cid       TEXT,
  exit_code     BIGINT,
  done          INTEGER NOT NULL DEFAULT 0,
  updated       BIGINT NOT NULL,
  UNIQUE (miner, period_start, deadline, partition_idx)
);
CREATE INDEX wdpost_owner ON wdpost (owner);

CREATE TABLE blocks (
  miner       BIGINT NOT NULL,
  epoch       BIGINT NOT NULL,
  owner       BIGINT,
  lease_until BIGINT NOT NULL DEFAULT 0,
  msg_cid     TEXT,
  exit_code   BIGINT,
  done        INTEGER NOT NULL DEFAULT 0,
  updated     BIGINT NOT NULL,
  UNIQUE (miner, epoch)
);
CREATE INDEX blocks_owner ON blocks (owner);

-- Fault and recovery declarations for one deadline instance.
CREATE TABLE declarations (
  miner        BIGINT NOT NULL,
  period_start BIGINT NOT NULL,
  deadline     BIGINT NOT NULL,
  owner        BIGINT,
  lease_until  BIGINT NOT NULL DEFAULT 0,
  msg_cid      TEXT,
  exit_code    BIGINT,
  done         INTEGER NOT NULL DEFAULT 0,
  updated      BIGINT NOT NULL,
  UNIQUE (miner, deadline, period_start)
);
CREATE INDEX declarations_owner ON declarations (owner);

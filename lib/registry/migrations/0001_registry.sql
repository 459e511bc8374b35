-- 0001: storage nodes and the sector files they hold.
-- One text for SQLite and PostgreSQL; @AUTOID@ is the only word that differs (an id column that
-- never reuses a value) and the migrator fills it in for the backend.

CREATE TABLE storage_nodes (
  id             @AUTOID@,
  host           TEXT    NOT NULL,
  node_group     BIGINT  NOT NULL DEFAULT 1 CHECK (node_group >= 0),
  mount_host     TEXT    NOT NULL,
  mount_type     TEXT    NOT NULL,
  capacity       BIGINT  NOT NULL DEFAULT 0 CHECK (capacity >= 0),
  available      BIGINT  NOT NULL DEFAULT 0,
  weight         BIGINT  NOT NULL DEFAULT 10 CHECK (weight >= 0),
  last_heartbeat BIGINT,
  heartbeat_err  TEXT,
  version        BIGINT  NOT NULL DEFAULT 1,
  UNIQUE (host, mount_type)
);

CREATE TABLE sector_locations (
  miner      BIGINT  NOT NULL CHECK (miner >= 0),
  sector     BIGINT  NOT NULL CHECK (sector >= 0),
  kind       TEXT    NOT NULL CHECK (kind IN ('sealed', 'cache', 'unsealed')),
  node_id    BIGINT  NOT NULL REFERENCES storage_nodes (id),
  is_primary INTEGER NOT NULL DEFAULT 1 CHECK (is_primary IN (0, 1)),
  PRIMARY KEY (miner, sector, kind, node_id)
);

-- At most one primary copy of each file.
CREATE UNIQUE INDEX sector_locations_primary ON sector_locations (miner, sector, kind) WHERE is_primary = 1;
CREATE INDEX sector_locations_node ON sector_locations (node_id);

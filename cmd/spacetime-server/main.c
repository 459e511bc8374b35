/* spacetime-server: the storage registry (the seed's lotus-server). `run` serves the API; the
 * other verbs are its operator CLI, which talks to a running server through st_registry_client. */
#include <errno.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/st_cli.h"
#include "core/st_encoding.h"
#include "core/st_fs.h"
#include "core/st_json.h"
#include "core/st_log.h"
#include "db/st_db.h"
#include "registry/st_registry_client.h"
#include "registry/st_registry_server.h"
#include "rpc/st_apiinfo.h"

#define DEFAULT_LISTEN "127.0.0.1:3456"

/* ---------------------------------------------------------------- repo */

/* --repo, else $SPACETIME_SERVER_REPO, else ~/.spacetime-server. */
static void repo_dir(const char *flag, char out[1024]) { st_apiinfo_repo(flag, ".spacetime-server", out, 1024); }

static void repo_file(const char *repo, const char *name, char out[1100]) { snprintf(out, 1100, "%s/%s", repo, name); }

/* The write token: read from <repo>/token, created (32 random bytes, hex, mode 0600) on first run. */
static st_code repo_token(const char *repo, char out[128], st_err *err) {
  char path[1100];
  repo_file(repo, "token", path);
  st_code code = st_fs_read_line(path, out, 128, err);
  if (code || out[0]) return code;
  uint8_t raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return st_err_set(err, ST_ECRYPTO, "could not draw random bytes for the API token");
  st_buf hex = ST_BUF_INIT;
  st_hex_append(&hex, raw, sizeof raw);
  snprintf(out, 128, "%s", st_buf_cstr(&hex));
  st_buf_putc(&hex, '\n');
  code = st_fs_create_atomic(path, hex.data, hex.len, 0600, err);
  st_buf_free(&hex);
  if (code == ST_EEXIST) return st_fs_read_line(path, out, 128, err); /* another server made it first */
  return code;
}

/* ---------------------------------------------------------------- run */

/* The database URL: --db-file's first line, else --db (refused with a password in it: every
 * local user reads /proc/PID/cmdline), else $SPACETIME_DB, else the repo's SQLite file. 1 after
 * printing the error. */
static int db_url(const st_cli *cli, const char *repo, char db[1200]) {
  const char *file = st_cli_value(cli, "db-file", NULL), *flag = st_cli_value(cli, "db", NULL),
             *env = getenv("SPACETIME_DB");
  st_err err;
  char shown[1200];
  if (file && flag) return st_cli_fail("give --db or --db-file, not both");
  if (file) {
    if (st_fs_read_line(file, db, 1200, &err)) return st_cli_fail("--db-file: %s", err.msg);
    if (!db[0]) return st_cli_fail("--db-file: path=\"%s\" is missing or empty", file);
    return 0;
  }
  if (flag) {
    st_db_url_redacted(flag, shown, sizeof shown);
    if (strcmp(shown, flag))
      return st_cli_fail(
          "--db %s carries a password, which every local user can read on the command line: put the "
          "URL in --db-file FILE or $SPACETIME_DB, or the password in $PGPASSWORD or ~/.pgpass",
          shown);
    snprintf(db, 1200, "%s", flag);
  } else if (env && *env) {
    snprintf(db, 1200, "%s", env);
  } else {
    snprintf(db, 1200, "sqlite:%s/registry.db", repo);
  }
  return 0;
}

static int cmd_run(int argc, char **argv) {
  st_flag flags[] = {
      ST_FLAG("listen", ST_FLAG_VALUE, "HOST:PORT", "address to serve on (default " DEFAULT_LISTEN ")"),
      ST_FLAG("db", ST_FLAG_VALUE, "URL",
              "sqlite:PATH or postgres://... without a password (default $SPACETIME_DB, else "
              "sqlite:<repo>/registry.db); give PostgreSQL's password in $PGPASSWORD or ~/.pgpass, or the whole URL "
              "in --db-file or $SPACETIME_DB"),
      ST_FLAG("db-file", ST_FLAG_VALUE, "FILE",
              "a file (mode 0600) whose first line is the database URL, password and all"),
      ST_FLAG("repo", ST_FLAG_VALUE, "DIR",
              "holds the token, the api file and the default database (default ~/.spacetime-server)"),
      ST_FLAG("heartbeat-timeout", ST_FLAG_VALUE, "SECONDS",
              "a node whose last heartbeat is older is not allocated to (default 60)"),
      ST_FLAG("threads", ST_FLAG_VALUE, "N", "request threads, each with its own database connection (default 4)"),
  };
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(&cli, argc, argv, 0, "spacetime-server run",
                        "[--listen HOST:PORT] [--db sqlite:PATH|postgres://... | --db-file FILE] [--repo DIR]",
                        "Serve the registry of storage nodes and sector locations over HTTP.");
  if (rc >= 0) return rc;
  st_err err;
  uint64_t stale = 60, threads = 4;
  if (st_cli_u64(&cli, "heartbeat-timeout", 1, UINT64_MAX, NULL, &stale, NULL))
    return st_cli_fail("--heartbeat-timeout must be a positive number of seconds");
  if (st_cli_u64(&cli, "threads", 1, 256, NULL, &threads, NULL))
    return st_cli_fail("--threads must be a number from 1 to 256");
  char repo[1024], token[128], db[1200], apifile[1100];
  repo_dir(st_cli_value(&cli, "repo", NULL), repo);
  if (mkdir(repo, 0700) && errno != EEXIST)
    return st_cli_fail("could not create repo path=\"%s\": %s", repo, strerror(errno));
  if (repo_token(repo, token, &err)) return st_cli_fail("%s", err.msg);
  if (strlen(token) < 16)
    return st_cli_fail("the token in path=\"%s/token\" is shorter than 16 characters: delete the file to get a new one",
                       repo);
  if (db_url(&cli, repo, db)) return 1;
  /* block the stop signals before any thread starts, so that only sigwait below sees them */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  st_registry_server_opts o = {st_cli_value(&cli, "listen", DEFAULT_LISTEN), db, token, (int64_t)stale,
                               (unsigned)threads};
  st_registry_server *srv;
  if (st_registry_server_start(&o, &srv, &err)) return st_cli_fail("%s", err.msg);
  /* the api file says where this server listens, with the port actually bound */
  char api[300], host[256];
  snprintf(host, sizeof host, "%s", o.listen);
  *strrchr(host, ':') = 0;
  if (!strcmp(host, "0.0.0.0")) snprintf(host, sizeof host, "127.0.0.1");
  if (!strcmp(host, "[::]")) snprintf(host, sizeof host, "[::1]");
  snprintf(api, sizeof api, "http://%s:%u\n", host, st_registry_server_port(srv));
  repo_file(repo, "api", apifile);
  if (st_fs_write_atomic(apifile, api, strlen(api), 0644, &err)) {
    st_registry_server_stop(srv);
    return st_cli_fail("%s", err.msg);
  }
  char shown[256];
  st_db_url_redacted(db, shown, sizeof shown);
  api[strlen(api) - 1] = 0;
  st_logf("registry", ST_LOG_INFO, "spacetime-server listening on %s (database %s, schema version %d, repo %s)", api,
          shown, st_registry_server_schema(srv), repo);
  int sig = 0;
  sigwait(&stop, &sig);
  st_logf("registry", ST_LOG_INFO, "stopping on signal %d", sig);
  st_registry_server_stop(srv);
  return 0;
}

/* ---------------------------------------------------------------- client verbs */

#define CLIENT_FLAGS                                                                                                \
  ST_FLAG("server-api", ST_FLAG_VALUE, "URL[,URL...]",                                                              \
          "the server or its instances, in turn (default $SPACETIME_SERVER_API, <repo>/api, http://" DEFAULT_LISTEN \
          ")"),                                                                                                     \
      ST_FLAG("token-file", ST_FLAG_VALUE, "FILE",                                                                  \
              "a file holding the write token (default $SPACETIME_SERVER_TOKEN, else <repo>/token); it replaces "   \
              "--token, which showed the token to every local user"),                                               \
      ST_FLAG("repo", ST_FLAG_VALUE, "DIR", "the server's repo (default ~/.spacetime-server)"),                     \
      ST_FLAG("json", ST_FLAG_BOOL, NULL, "print JSON")

static int connect_client(st_cli *cli, st_regc **out) {
  char repo[1024], api[300] = "", token[128] = "", path[1100];
  st_err err;
  repo_dir(st_cli_value(cli, "repo", NULL), repo);
  const char *url = st_cli_value(cli, "server-api", NULL), *env_url = getenv("SPACETIME_SERVER_API"),
             *env_token = getenv("SPACETIME_SERVER_TOKEN");
  if (!url && env_url && *env_url) url = env_url;
  if (!url) {
    repo_file(repo, "api", path);
    if (st_fs_read_line(path, api, sizeof api, &err)) return st_cli_fail("%s", err.msg);
    if (!api[0]) snprintf(api, sizeof api, "http://%s", DEFAULT_LISTEN);
    url = api;
  }
  const char *file = st_cli_value(cli, "token-file", NULL);
  if (file) {
    if (st_fs_read_line(file, token, sizeof token, &err)) return st_cli_fail("--token-file: %s", err.msg);
    if (!token[0]) return st_cli_fail("--token-file: path=\"%s\" is missing or empty", file);
  } else if (env_token && *env_token) snprintf(token, sizeof token, "%s", env_token);
  else {
    repo_file(repo, "token", path);
    if (st_fs_read_line(path, token, sizeof token, &err) && err.code != ST_EPERM) return st_cli_fail("%s", err.msg);
  }
  if (st_regc_open(url, token[0] ? token : NULL, out, &err)) return st_cli_fail("%s", err.msg);
  return 0;
}

static int fail_call(st_regc *c, const st_err *err) {
  st_regc_close(c);
  if (err->code == ST_EUNAVAIL && strstr(err->msg, "could not reach"))
    return st_cli_fail("%s (is 'spacetime-server run' up? point to it with --server-api URL)", err->msg);
  if (err->code == ST_EPERM)
    return st_cli_fail("%s; pass --token-file or --repo, or set $SPACETIME_SERVER_TOKEN", err->msg);
  return st_cli_fail("%s", err->msg);
}

static void human_bytes(int64_t v, char out[32]) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double d = (double)v;
  int u = 0;
  while (d >= 1024 && u < 6) {
    d /= 1024;
    u++;
  }
  if (u == 0) snprintf(out, 32, "%lld B", (long long)v);
  else snprintf(out, 32, "%.1f %s", d, units[u]);
}

/* One node as a tab-separated row; its first five columns are the seed's (id host group mount-host type). */
static void print_node_row(const st_storage_node *n, int64_t now) {
  char cap[32], avail[32], hb[ST_REG_ERRTEXT_MAX + 32];
  human_bytes(n->capacity, cap);
  human_bytes(n->available, avail);
  if (n->heartbeat_err[0]) snprintf(hb, sizeof hb, "error: %s", n->heartbeat_err);
  else if (!n->last_heartbeat) snprintf(hb, sizeof hb, "never");
  else snprintf(hb, sizeof hb, "%llds ago", (long long)(now - n->last_heartbeat));
  printf("%lld\t%s\t%lld\t%s\t%s\t%s\t%s\t%lld\t%s\t%lld\n", (long long)n->id, n->host, (long long)n->group,
         n->mount_host, n->mount_type, cap, avail, (long long)n->weight, hb, (long long)n->version);
}

#define NODE_HEADER "ID\tHOST\tGROUP\tMOUNT-HOST\tTYPE\tCAPACITY\tAVAILABLE\tWEIGHT\tHEARTBEAT\tVERSION\n"

static int nodes_list(int argc, char **argv) {
  st_flag flags[] = {CLIENT_FLAGS};
  st_cli cli = ST_CLI_INIT(flags);
  int rc =
      st_cli_start(&cli, argc, argv, 0, "spacetime-server storage-nodes list", "[--json]", "List the storage nodes.");
  if (rc >= 0) return rc;
  st_regc *c;
  if ((rc = connect_client(&cli, &c))) return rc;
  st_storage_node *list;
  size_t n;
  st_err err;
  if (st_regc_nodes(c, &list, &n, &err)) return fail_call(c, &err);
  if (st_cli_has(&cli, "json")) {
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, st_node_to_json(&list[i]));
    st_json_print(arr);
  } else {
    printf(NODE_HEADER);
    for (size_t i = 0; i < n; i++) print_node_row(&list[i], (int64_t)time(NULL));
  }
  free(list);
  st_regc_close(c);
  return 0;
}

static int print_node(st_cli *cli, const st_storage_node *n) {
  if (st_cli_has(cli, "json")) st_json_print(st_node_to_json(n));
  else {
    printf(NODE_HEADER);
    print_node_row(n, (int64_t)time(NULL));
  }
  return 0;
}

/* --group or --weight, which was given: a number from 0 to max. */
static int node_number(const st_cli *cli, const char *name, int64_t max, int64_t *out) {
  uint64_t v = 0;
  if (st_cli_u64(cli, name, 0, (uint64_t)max, NULL, &v, NULL))
    return st_cli_fail("--%s must be a number from 0 to %lld", name, (long long)max);
  *out = (int64_t)v;
  return 0;
}

/* Reads the node flags that were given into n; *fields gets their bits. */
static int node_flags(st_cli *cli, st_storage_node *n, unsigned *fields) {
  const char *host = st_cli_value(cli, "host", NULL), *group = st_cli_value(cli, "group", NULL),
             *mount_host = st_cli_value(cli, "mount-host", NULL), *type = st_cli_value(cli, "type", NULL),
             *weight = st_cli_value(cli, "weight", NULL);
  st_err err;
  *fields = 0;
  if (host) {
    if (st_reg_check_host(host, "--host", &err)) return st_cli_fail("%s", err.msg);
    snprintf(n->host, sizeof n->host, "%s", host);
    *fields |= ST_NODE_F_HOST;
  }
  if (group) {
    if (node_number(cli, "group", INT32_MAX, &n->group)) return 1;
    *fields |= ST_NODE_F_GROUP;
  }
  if (mount_host) {
    if (st_reg_check_host(mount_host, "--mount-host", &err)) return st_cli_fail("%s", err.msg);
    snprintf(n->mount_host, sizeof n->mount_host, "%s", mount_host);
    *fields |= ST_NODE_F_MOUNT_HOST;
  }
  if (type) {
    if (st_reg_check_type(type, &err)) return st_cli_fail("--type: %s", err.msg);
    snprintf(n->mount_type, sizeof n->mount_type, "%s", type);
    *fields |= ST_NODE_F_MOUNT_TYPE;
  }
  if (weight) {
    if (node_number(cli, "weight", ST_REG_WEIGHT_MAX, &n->weight)) return 1;
    *fields |= ST_NODE_F_WEIGHT;
  }
  return 0;
}

#define NODE_FLAGS                                                                                        \
  ST_FLAG("host", ST_FLAG_VALUE, "HOST", "the storage node's address (IP or name)"),                      \
      ST_FLAG("group", ST_FLAG_VALUE, "N", "its sealing group (default 1)"),                              \
      ST_FLAG("mount-host", ST_FLAG_VALUE, "HOST", "where its export is mounted from (default: --host)"), \
      ST_FLAG("type", ST_FLAG_VALUE, "TYPE", "mount type: nfs, local, ..."),                              \
      ST_FLAG("weight", ST_FLAG_VALUE, "N", "allocation preference, higher first (default 10)")

static int nodes_add(int argc, char **argv) {
  st_flag flags[] = {CLIENT_FLAGS, NODE_FLAGS};
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(&cli, argc, argv, 0, "spacetime-server storage-nodes add",
                        "--host HOST --type TYPE [--group N] [--mount-host HOST] [--weight N]",
                        "Register a storage node. Its files live under <dist-path>/<type>/<host>/ on every host.");
  if (rc >= 0) return rc;
  if (!st_cli_has(&cli, "host"))
    return st_cli_fail("--host is required (run 'spacetime-server storage-nodes add --help')");
  if (!st_cli_has(&cli, "type")) return st_cli_fail("--type is required, e.g. --type nfs");
  st_storage_node n = {.group = 1, .weight = 10};
  unsigned fields;
  if ((rc = node_flags(&cli, &n, &fields))) return rc;
  if (!(fields & ST_NODE_F_MOUNT_HOST)) snprintf(n.mount_host, sizeof n.mount_host, "%s", n.host);
  st_regc *c;
  if ((rc = connect_client(&cli, &c))) return rc;
  st_storage_node out;
  st_err err;
  if (st_regc_node_add(c, &n, &out, &err)) return fail_call(c, &err);
  st_regc_close(c);
  return print_node(&cli, &out);
}

static int parse_node_id(const char *s, int64_t *id) {
  uint64_t v;
  st_err err;
  if (st_parse_u64(s, "storage node id", &v, &err) || !v || v > INT64_MAX)
    return st_cli_fail("storage node id \"%s\" is not a positive integer", s);
  *id = (int64_t)v;
  return 0;
}

static int nodes_update(int argc, char **argv) {
  st_flag flags[] = {CLIENT_FLAGS, NODE_FLAGS,
                     ST_FLAG("version", ST_FLAG_VALUE, "V", "update only if the node is still at this version")};
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(&cli, argc, argv, 1, "spacetime-server storage-nodes update",
                        "ID [--host HOST] [--group N] [--mount-host HOST] [--type TYPE] [--weight N] [--version V]",
                        "Change a storage node; its version goes up by one.");
  if (rc >= 0) return rc;
  if (cli.npos != 1)
    return st_cli_fail("want the storage node ID (run 'spacetime-server storage-nodes update --help')");
  int64_t id = 0;
  if ((rc = parse_node_id(cli.pos[0], &id))) return rc;
  st_storage_node patch = {0};
  unsigned fields;
  if ((rc = node_flags(&cli, &patch, &fields))) return rc;
  if (!fields)
    return st_cli_fail("nothing to change: give at least one of --host, --group, --mount-host, --type, --weight");
  uint64_t version = 0;
  st_err err;
  if (st_cli_u64(&cli, "version", 0, UINT64_MAX, NULL, &version, &err)) return st_cli_fail("%s", err.msg);
  st_regc *c;
  if ((rc = connect_client(&cli, &c))) return rc;
  st_storage_node out;
  if (st_regc_node_update(c, id, &patch, fields, (int64_t)version, &out, &err)) return fail_call(c, &err);
  st_regc_close(c);
  return print_node(&cli, &out);
}

static int nodes_rm(int argc, char **argv) {
  st_flag flags[] = {CLIENT_FLAGS,
                     ST_FLAG("force", ST_FLAG_BOOL, NULL, "also drop the sector locations the node holds")};
  st_cli cli = ST_CLI_INIT(flags);
  int rc =
      st_cli_start(&cli, argc, argv, 1, "spacetime-server storage-nodes rm", "ID [--force]", "Remove a storage node.");
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_cli_fail("want the storage node ID (run 'spacetime-server storage-nodes rm --help')");
  int64_t id = 0;
  if ((rc = parse_node_id(cli.pos[0], &id))) return rc;
  st_regc *c;
  if ((rc = connect_client(&cli, &c))) return rc;
  uint64_t dropped = 0;
  st_err err;
  if (st_regc_node_remove(c, id, st_cli_has(&cli, "force"), &dropped, &err)) return fail_call(c, &err);
  st_regc_close(c);
  if (st_cli_has(&cli, "json"))
    st_json_print(json_pack("{sI sI}", "removed", (json_int_t)id, "dropped_locations", (json_int_t)dropped));
  else
    printf("removed storage node %lld (%llu sector locations dropped)\n", (long long)id, (unsigned long long)dropped);
  return 0;
}

static int nodes_heartbeat(int argc, char **argv) {
  st_flag flags[] = {
      CLIENT_FLAGS,
      ST_FLAG("path", ST_FLAG_VALUE, "DIR", "measure capacity and available bytes of the file system holding DIR"),
      ST_FLAG("capacity", ST_FLAG_VALUE, "BYTES", "report this capacity"),
      ST_FLAG("available", ST_FLAG_VALUE, "BYTES", "report this many bytes available"),
      ST_FLAG("error", ST_FLAG_VALUE, "TEXT", "report that the node cannot serve, and why")};
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(&cli, argc, argv, 1, "spacetime-server storage-nodes heartbeat",
                        "ID (--path DIR | --capacity BYTES --available BYTES | --error TEXT)",
                        "Report a storage node's health. Nodes without a recent heartbeat get no new sectors.");
  if (rc >= 0) return rc;
  if (cli.npos != 1)
    return st_cli_fail("want the storage node ID (run 'spacetime-server storage-nodes heartbeat --help')");
  int64_t id = 0;
  if ((rc = parse_node_id(cli.pos[0], &id))) return rc;
  uint64_t cap = 0, avail = 0;
  const char *error = st_cli_value(&cli, "error", NULL);
  st_err err;
  if (error && (st_cli_has(&cli, "path") || st_cli_has(&cli, "capacity") || st_cli_has(&cli, "available")))
    return st_cli_fail(
        "--error reports a node that cannot serve; it does not go with --path, --capacity or --available");
  if (error && !*error) return st_cli_fail("--error needs the reason, e.g. --error \"stale NFS file handle\"");
  if (st_cli_has(&cli, "path")) {
    int64_t c, a;
    if (st_fs_space(st_cli_value(&cli, "path", NULL), &c, &a, &err)) return st_cli_fail("%s", err.msg);
    cap = (uint64_t)c;
    avail = (uint64_t)a;
  } else if (!error) {
    if (!st_cli_has(&cli, "capacity") || !st_cli_has(&cli, "available"))
      return st_cli_fail("give --path DIR, or --capacity and --available, or --error TEXT");
    if (st_cli_u64(&cli, "capacity", 0, UINT64_MAX, NULL, &cap, &err) ||
        st_cli_u64(&cli, "available", 0, UINT64_MAX, NULL, &avail, &err))
      return st_cli_fail("%s", err.msg);
  }
  if (cap > (uint64_t)ST_REG_BYTES_MAX || avail > (uint64_t)ST_REG_BYTES_MAX)
    return st_cli_fail("--capacity and --available must be at most 2^62");
  st_regc *c;
  if ((rc = connect_client(&cli, &c))) return rc;
  st_storage_node out;
  if (st_regc_heartbeat(c, id, (int64_t)cap, (int64_t)avail, error, &out, &err)) return fail_call(c, &err);
  st_regc_close(c);
  return print_node(&cli, &out);
}

static int parse_sector_args(const char *m, const char *s, uint64_t *miner, uint64_t *sector) {
  st_err err;
  if (st_reg_parse_miner(m, miner, &err)) return st_cli_fail("%s", err.msg);
  if (st_parse_u64(s, "sector number", sector, &err)) return st_cli_fail("%s", err.msg);
  return 0;
}

static int sectors_find(int argc, char **argv) {
  st_flag flags[] = {CLIENT_FLAGS};
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(&cli, argc, argv, 2, "spacetime-server sectors find", "MINER SECTOR [--json]",
                        "Show which storage nodes hold a sector's files.");
  if (rc >= 0) return rc;
  if (cli.npos != 2) return st_cli_fail("want MINER and SECTOR, e.g. 'spacetime-server sectors find t01003 2218'");
  uint64_t miner, sector;
  if ((rc = parse_sector_args(cli.pos[0], cli.pos[1], &miner, &sector))) return rc;
  st_regc *c;
  if ((rc = connect_client(&cli, &c))) return rc;
  st_reg_found *found;
  size_t n;
  st_err err;
  if (st_regc_find(c, miner, sector, &found, &n, &err)) return fail_call(c, &err);
  st_regc_close(c);
  if (st_cli_has(&cli, "json")) {
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
      json_t *l = st_location_to_json(&found[i].loc);
      json_object_set_new(l, "storage_node", st_node_to_json(&found[i].node));
      json_array_append_new(arr, l);
    }
    st_json_print(arr);
  } else if (!n) {
    printf("no storage node holds sector %llu of t0%llu\n", (unsigned long long)sector, (unsigned long long)miner);
  } else {
    printf("KIND\tPRIMARY\tNODE\tHOST\tTYPE\n");
    for (size_t i = 0; i < n; i++)
      printf("%s\t%s\t%lld\t%s\t%s\n", st_sector_kind_name(found[i].loc.kind), found[i].loc.primary ? "yes" : "no",
             (long long)found[i].node.id, found[i].node.host, found[i].node.mount_type);
  }
  free(found);
  return 0;
}

static int sectors_declare(int argc, char **argv) {
  st_flag flags[] = {CLIENT_FLAGS,
                     ST_FLAG("miner", ST_FLAG_VALUE, "ADDR", "the miner, e.g. t01003"),
                     ST_FLAG("sector", ST_FLAG_VALUE, "N", "sector number"),
                     ST_FLAG("kind", ST_FLAG_VALUE, "KIND", "sealed, cache or unsealed"),
                     ST_FLAG("node", ST_FLAG_VALUE, "ID", "the storage node holding the file"),
                     ST_FLAG("secondary", ST_FLAG_BOOL, NULL, "a copy, not the primary")};
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(&cli, argc, argv, 0, "spacetime-server sectors declare",
                        "--miner ADDR --sector N --kind KIND --node ID [--secondary]",
                        "Record that a storage node holds one of a sector's files.");
  if (rc >= 0) return rc;
  static const char *const need[] = {"miner", "sector", "kind", "node"};
  for (int i = 0; i < 4; i++)
    if (!st_cli_has(&cli, need[i]))
      return st_cli_fail("--%s is required (run 'spacetime-server sectors declare --help')", need[i]);
  st_sector_location l = {.primary = !st_cli_has(&cli, "secondary")};
  st_err err;
  if ((rc = parse_sector_args(st_cli_value(&cli, "miner", NULL), st_cli_value(&cli, "sector", NULL), &l.miner,
                              &l.sector)))
    return rc;
  if (st_sector_kind_parse(st_cli_value(&cli, "kind", NULL), &l.kind, &err)) return st_cli_fail("--kind: %s", err.msg);
  if ((rc = parse_node_id(st_cli_value(&cli, "node", NULL), &l.node))) return rc;
  st_regc *c;
  if ((rc = connect_client(&cli, &c))) return rc;
  if (st_regc_declare(c, &l, &err)) return fail_call(c, &err);
  st_regc_close(c);
  if (st_cli_has(&cli, "json")) st_json_print(st_location_to_json(&l));
  else
    printf("declared %s of s-t0%llu-%llu on storage node %lld\n", st_sector_kind_name(l.kind),
           (unsigned long long)l.miner, (unsigned long long)l.sector, (long long)l.node);
  return 0;
}

static int paths_resolve(int argc, char **argv) {
  st_flag flags[] = {CLIENT_FLAGS, ST_FLAG("miner", ST_FLAG_VALUE, "ADDR", "the miner, e.g. t01003"),
                     ST_FLAG("sector", ST_FLAG_VALUE, "N", "sector number"),
                     ST_FLAG("kind", ST_FLAG_VALUE, "KIND", "sealed, cache or unsealed (default cache)"),
                     ST_FLAG("dist-path", ST_FLAG_VALUE, "DIR", "where this host mounts the storage nodes")};
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(
      &cli, argc, argv, 0, "spacetime-server paths resolve", "--miner ADDR --sector N [--kind KIND] --dist-path DIR",
      "Print the path of a sector file on this host: <dist-path>/<type>/<host>/<kind>/s-t0<miner>-<n>.");
  if (rc >= 0) return rc;
  static const char *const need[] = {"miner", "sector", "dist-path"};
  for (int i = 0; i < 3; i++)
    if (!st_cli_has(&cli, need[i]))
      return st_cli_fail("--%s is required (run 'spacetime-server paths resolve --help')", need[i]);
  uint64_t miner, sector;
  if ((rc = parse_sector_args(st_cli_value(&cli, "miner", NULL), st_cli_value(&cli, "sector", NULL), &miner, &sector)))
    return rc;
  st_sector_kind kind = ST_KIND_CACHE;
  st_err err;
  if (st_cli_has(&cli, "kind") && st_sector_kind_parse(st_cli_value(&cli, "kind", NULL), &kind, &err))
    return st_cli_fail("--kind: %s", err.msg);
  st_regc *c;
  if ((rc = connect_client(&cli, &c))) return rc;
  char path[ST_REG_PATH_MAX];
  st_storage_node node;
  if (st_regc_resolve(c, miner, sector, kind, st_cli_value(&cli, "dist-path", NULL), path, &node, &err))
    return fail_call(c, &err);
  st_regc_close(c);
  if (st_cli_has(&cli, "json")) st_json_print(json_pack("{ss sI}", "path", path, "node", (json_int_t)node.id));
  else printf("%s\n", path);
  return 0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
  static const st_cli_verb verbs[] = {
      {"run", cmd_run, "serve the registry API (SQLite by default, or PostgreSQL)"},
      {"storage-nodes list", nodes_list, "list storage nodes"},
      {"storage-nodes add", nodes_add, "register a storage node"},
      {"storage-nodes update", nodes_update, "change a storage node"},
      {"storage-nodes rm", nodes_rm, "remove a storage node"},
      {"storage-nodes heartbeat", nodes_heartbeat, "report a storage node's capacity and health"},
      {"sectors find", sectors_find, "show where a sector's files are"},
      {"sectors declare", sectors_declare, "record where a sector file is"},
      {"paths resolve", paths_resolve, "print a sector file's path on this host"},
  };
  const char *levels = getenv("SPACETIME_LOG_LEVEL");
  st_err err;
  if (levels && *levels && st_log_configure(levels, &err)) return st_cli_fail("SPACETIME_LOG_LEVEL: %s", err.msg);
  if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
    printf("spacetime-server %s\n", ST_VERSION);
    return 0;
  }
  return st_cli_dispatch("spacetime-server", verbs, sizeof verbs / sizeof verbs[0], argc - 1, argv + 1);
}

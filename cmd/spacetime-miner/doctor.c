/* spacetime-miner doctor: what is wrong with this miner, why, and the exact fix. The checks are
 * lib/miner's (st_doctor_facts gathers, st_doctor judges); this file parses the flags, connects
 * to the daemon and the running miner, and prints the findings as text or JSON. Exit status: 0
 * all well, 2 problems found, 1 doctor could not run. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_token.h"
#include "miner.h"
#include "miner/st_doctor.h"
#include "miner/st_miner_repo.h"

static void print_text(const char *addr, const char *repo, const st_doctor_report *r, size_t problems) {
  printf("spacetime-miner doctor: miner %s (repo %s)\n\n", addr, repo);
  for (int i = 0; i < ST_DOCTOR_NCHECKS; i++) {
    const st_doctor_finding *f = &r->f[i];
    if (!f->check) continue;
    printf("[%s] %s: %s\n",
           f->level == ST_DOCTOR_OK     ? " OK "
           : f->level == ST_DOCTOR_WARN ? "WARN"
                                        : "FAIL",
           f->check, f->summary);
    if (f->level == ST_DOCTOR_OK) continue;
    for (size_t k = 0; k < f->evidence.n; k++)
      printf("       %s%s\n", k ? "          " : "evidence: ", f->evidence.v[k]);
    if (f->cause[0]) printf("       cause:    %s\n", f->cause);
    for (size_t k = 0; k < f->fix.n; k++) printf("       %s%s\n", k ? "          " : "fix:      ", f->fix.v[k]);
  }
  if (problems) printf("\n%zu problem(s) found; the fixes are above.\n", problems);
  else printf("\nNo problems found.\n");
}

static json_t *lines_json(const st_doctor_lines *l) {
  json_t *a = json_array();
  for (size_t i = 0; i < l->n; i++) json_array_append_new(a, json_string(l->v[i]));
  return a;
}

static void print_json(const char *addr, const st_doctor_report *r, size_t problems) {
  json_t *arr = json_array();
  for (int i = 0; i < ST_DOCTOR_NCHECKS; i++) {
    const st_doctor_finding *f = &r->f[i];
    if (!f->check) continue;
    json_array_append_new(arr, json_pack("{ss ss ss ss so so}", "check", f->check, "status",
                                         st_doctor_level_name(f->level), "summary", f->summary, "cause", f->cause,
                                         "evidence", lines_json(&f->evidence), "fix", lines_json(&f->fix)));
  }
  json_t *o = json_pack("{ss so sI}", "miner", addr, "findings", arr, "problems", (json_int_t)problems);
  miner_print_json(o);
  json_decref(o);
}

int miner_cmd_doctor(int argc, char **argv) {
  st_flag flags[] = {
      REPO_FLAG,
      NODE_FLAG,
      JSON_FLAG,
      ST_FLAG("log-file", ST_FLAG_VALUE, "FILE", "the poster's log (default: the running miner's --log-file)"),
      ST_FLAG("server-api", ST_FLAG_VALUE, "URL",
              "the registry, if the miner was not told (default: found on this host)"),
      ST_FLAG("min-balance", ST_FLAG_VALUE, "FIL", "warn when the worker holds less (default 1)")};
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(
      &cli, argc, argv, 0, "spacetime-miner doctor",
      "[--json] [--log-file FILE] [--server-api URL] [--min-balance FIL]",
      "What is wrong with this miner, why, and the exact fix: the seed's three checks (power, proven, the poster log) and the "
      "configuration (server-api, registry, sector paths, heartbeats, worker balance). Exit status 2 when problems are found.");
  if (rc >= 0) return rc;
  st_err err, node_err, miner_err;
  mpz_t min;
  mpz_init(min);
  if (st_fil_parse(st_cli_value(&cli, "min-balance", "1"), min, &err)) {
    mpz_clear(min);
    return st_cli_fail("--min-balance: %s", err.msg);
  }
  char repo[4096], node_repo[4096], addr[32];
  st_miner_config cfg;
  miner_repo_of(&cli, "repo", ".spacetime-miner", repo);
  miner_repo_of(&cli, "node-repo", ".spacetime", node_repo);
  if (st_miner_config_read(repo, &cfg, &err)) {
    mpz_clear(min);
    return st_cli_fail("%s", err.msg);
  }
  snprintf(addr, sizeof addr, "t0%llu", (unsigned long long)cfg.miner);
  st_doctor_opts o = {.repo = repo,
                      .node_repo = node_repo,
                      .cfg = &cfg,
                      .node_error = node_err.msg,
                      .miner_error = miner_err.msg,
                      .log_file = st_cli_value(&cli, "log-file", NULL),
                      .server_api = st_cli_value(&cli, "server-api", NULL),
                      .min_balance = min};
  if (miner_connect_node(&cli, &o.node, &node_err)) {
    st_rpc_client_close(o.node);
    o.node = NULL;
  }
  if (miner_connect_self(repo, &o.miner, &miner_err)) {
    st_rpc_client_close(o.miner);
    o.miner = NULL;
  }
  static st_doctor_facts facts;
  st_doctor_report report;
  st_doctor_facts_init(&facts);
  st_doctor_report_init(&report);
  st_doctor_gather(&o, &facts);
  st_doctor_diagnose(&facts, &report);
  size_t problems = st_doctor_problems(&report);
  if (st_cli_has(&cli, "json")) print_json(addr, &report, problems);
  else print_text(addr, repo, &report, problems);
  st_doctor_report_free(&report);
  st_doctor_facts_free(&facts);
  st_rpc_client_close(o.node);
  st_rpc_client_close(o.miner);
  mpz_clear(min);
  return problems ? 2 : 0;
}

/* The operator views of spacetime-miner: what the chain says of the miner (through the daemon's
 * API: info, proving ...) and what the running miner knows (through its own API, st_miner_api:
 * sectors, storage, proving check, the Mode line of info). Every view prints the seed's or
 * Lotus's layout, or JSON with --json. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/st_token.h"
#include "miner.h"
#include "miner/st_miner_api.h"
#include "miner/st_miner_repo.h"
#include "miner/st_miner_status.h"
#include "rpc/st_node_api.h"

#define NEED_NODE 1u  /* the daemon's API */
#define NEED_MINER 2u /* the running miner's API */

typedef struct view {
  st_cli cli;
  char repo[4096];
  st_miner_config cfg;
  st_rpc_client *node, *miner;
  bool json;
  char addr[32];
} view;

/* Parses the flags of v->cli (a view's table: `view v = {.cli = ST_CLI_INIT(flags)}`), reads the
 * config and connects to the APIs in needs: -1 to go on, else the exit status. */
static int view_start(view *v, int argc, char **argv, int maxpos, const char *cmd, const char *args,
                      const char *summary, unsigned needs) {
  int rc = st_cli_start(&v->cli, argc, argv, maxpos, cmd, args, summary);
  if (rc >= 0) return rc;
  st_err err;
  miner_repo_of(&v->cli, "repo", ".spacetime-miner", v->repo);
  v->json = st_cli_has(&v->cli, "json");
  if (st_miner_config_read(v->repo, &v->cfg, &err)) return st_cli_fail("%s", err.msg);
  snprintf(v->addr, sizeof v->addr, "t0%llu", (unsigned long long)v->cfg.miner);
  if ((needs & NEED_NODE) && miner_connect_node(&v->cli, &v->node, &err)) return miner_fail(&err);
  if ((needs & NEED_MINER) && miner_connect_self(v->repo, &v->miner, &err)) return miner_fail(&err);
  return -1;
}

static int view_end(view *v, int rc) {
  st_rpc_client_close(v->node);
  st_rpc_client_close(v->miner);
  return rc;
}

/* "2.69 MiB" (st_size_str) */
static void bytes_str(int64_t bytes, char *out, size_t n) { st_size_str((double)bytes, "B", out, n); }

/* "in 5 epochs", "now", "3 epochs ago" */
static const char *epochs_from(int64_t at, int64_t now, char *buf, size_t n) {
  if (at == now) snprintf(buf, n, "now");
  else if (at > now) snprintf(buf, n, "in %lld epochs", (long long)(at - now));
  else snprintf(buf, n, "%lld epochs ago", (long long)(now - at));
  return buf;
}

int miner_cmd_proving_deadlines(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {.cli = ST_CLI_INIT(flags)};
  int rc = view_start(
      &v, argc, argv, 0, "spacetime-miner proving deadlines", "[--json]",
      "Each deadline's sectors, partitions, and partitions proven in its open window (Lotus's Proven Partitions: the "
      "chain clears them when the deadline closes, so only the current one can be above 0); the current one is "
      "marked.",
      NEED_NODE);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  st_deadline_info cur;
  if (st_node_proving_deadline(v.node, v.cfg.miner, NULL, &cur, &err)) return view_end(&v, miner_fail(&err));
  st_bitfield *posted;
  size_t nposted;
  if (st_node_posted(v.node, v.cfg.miner, NULL, &posted, &nposted, &err)) return view_end(&v, miner_fail(&err));
  json_t *out = json_array();
  if (!v.json) printf("%-10s%-9s%-12s%s\n", "deadline", "sectors", "partitions", "proven");
  for (uint64_t d = 0; d < (uint64_t)cur.policy.deadlines; d++) {
    st_node_partition *parts;
    size_t np;
    if (st_node_partitions(v.node, v.cfg.miner, d, NULL, &parts, &np, &err)) {
      st_node_bitfields_free(posted, nposted);
      json_decref(out);
      return view_end(&v, miner_fail(&err));
    }
    uint64_t sectors = 0;
    for (size_t i = 0; i < np; i++) sectors += st_bitfield_count(&parts[i].live);
    st_node_partitions_free(parts, np);
    uint64_t proven = d < nposted ? st_bitfield_count(&posted[d]) : 0;
    bool current = d == cur.index;
    if (v.json)
      json_array_append_new(
          out, json_pack("{sI sI sI sI sb}", "deadline", (json_int_t)d, "sectors", (json_int_t)sectors, "partitions",
                         (json_int_t)np, "proven", (json_int_t)proven, "current", current));
    else
      printf("%-10llu%-9llu%-12zu%llu%s\n", (unsigned long long)d, (unsigned long long)sectors, np,
             (unsigned long long)proven, current ? " (current)" : "");
  }
  if (v.json) miner_print_json(out);
  json_decref(out);
  st_node_bitfields_free(posted, nposted);
  return view_end(&v, 0);
}

/* Every deadline's partitions (at the head); out[d] / n[d]. */
static st_code all_partitions(view *v, int64_t ndl, st_node_partition **out, size_t *n, st_err *err) {
  for (int64_t d = 0; d < ndl; d++)
    if (st_node_partitions(v->node, v->cfg.miner, (uint64_t)d, NULL, &out[d], &n[d], err)) {
      for (int64_t e = 0; e < d; e++) st_node_partitions_free(out[e], n[e]);
      return err->code;
    }
  return ST_OK;
}

int miner_cmd_proving_faults(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {.cli = ST_CLI_INIT(flags)};
  int rc = view_start(&v, argc, argv, 0, "spacetime-miner proving faults", "[--json]",
                      "Every faulty sector with its deadline and partition (recovering ones are marked).", NEED_NODE);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  st_deadline_info cur;
  if (st_node_proving_deadline(v.node, v.cfg.miner, NULL, &cur, &err)) return view_end(&v, miner_fail(&err));
  st_node_partition *parts[256];
  size_t np[256];
  if (cur.policy.deadlines > 256) return view_end(&v, st_cli_fail("more than 256 deadlines"));
  if (all_partitions(&v, cur.policy.deadlines, parts, np, &err)) return view_end(&v, miner_fail(&err));
  json_t *out = json_array();
  if (!v.json) printf("Miner: %s\n%-10s%-11s%-8s%s\n", v.addr, "deadline", "partition", "sector", "recovering");
  for (int64_t d = 0; d < cur.policy.deadlines; d++) {
    for (size_t p = 0; p < np[d]; p++) {
      st_bitfield_iter it;
      st_bitfield_iter_init(&it, &parts[d][p].faulty);
      uint64_t sn;
      while (st_bitfield_iter_next(&it, &sn)) {
        bool rec = st_bitfield_has(&parts[d][p].recovering, sn);
        if (v.json)
          json_array_append_new(out, json_pack("{sI sI sI sb}", "deadline", (json_int_t)d, "partition", (json_int_t)p,
                                               "sector", (json_int_t)sn, "recovering", rec));
        else printf("%-10lld%-11zu%-8llu%s\n", (long long)d, p, (unsigned long long)sn, rec ? "yes" : "no");
      }
    }
    st_node_partitions_free(parts[d], np[d]);
  }
  if (v.json) miner_print_json(out);
  json_decref(out);
  return view_end(&v, 0);
}

int miner_cmd_proving_deadline(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {.cli = ST_CLI_INIT(flags)};
  int rc = view_start(
      &v, argc, argv, 1, "spacetime-miner proving deadline", "N [--json]",
      "One deadline: its partitions, which are proven in its open window, and each partition's sectors and faults.",
      NEED_NODE);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  st_deadline_info cur;
  uint64_t d;
  if (v.cli.npos != 1)
    return view_end(&v, st_cli_fail("give the deadline index, e.g. 'spacetime-miner proving deadline 3'"));
  if (st_parse_u64(v.cli.pos[0], "deadline index", &d, &err)) return view_end(&v, st_cli_fail("%s", err.msg));
  if (st_node_proving_deadline(v.node, v.cfg.miner, NULL, &cur, &err)) return view_end(&v, miner_fail(&err));
  if (d >= (uint64_t)cur.policy.deadlines)
    return view_end(&v, st_cli_fail("deadline %llu does not exist: this network has deadlines 0 to %lld",
                                    (unsigned long long)d, (long long)cur.policy.deadlines - 1));
  st_node_partition *parts;
  size_t np;
  st_bitfield posted;
  st_bitfield_init(&posted);
  if (st_node_partitions(v.node, v.cfg.miner, d, NULL, &parts, &np, &err) ||
      st_node_post_submissions(v.node, v.cfg.miner, d, NULL, &posted, &err))
    return view_end(&v, miner_fail(&err));
  json_t *arr = json_array();
  if (!v.json)
    printf("Deadline Idx: %llu%s\nPartitions: %zu\nProven Partitions: %llu\n", (unsigned long long)d,
           d == cur.index ? " (current)" : "", np, (unsigned long long)st_bitfield_count(&posted));
  for (size_t p = 0; p < np; p++) {
    st_buf all = ST_BUF_INIT, faults = ST_BUF_INIT;
    st_bitfield_format_ranges(&parts[p].all, &all);
    st_bitfield_format_ranges(&parts[p].faulty, &faults);
    if (v.json)
      json_array_append_new(arr, json_pack("{sI ss ss sb}", "partition", (json_int_t)p, "sectors", st_buf_cstr(&all),
                                           "faults", st_buf_cstr(&faults), "proven", st_bitfield_has(&posted, p)));
    else
      printf("\nPartition Index: %zu\nSectors: %s\nFaults: %s\nProven: %s\n", p, st_buf_cstr(&all),
             faults.len ? st_buf_cstr(&faults) : "none", st_bitfield_has(&posted, p) ? "yes" : "no");
    st_buf_free(&all);
    st_buf_free(&faults);
  }
  if (v.json) {
    json_t *o = json_pack("{sI sb so}", "deadline", (json_int_t)d, "current", d == cur.index, "partitions", arr);
    miner_print_json(o);
    json_decref(o);
  } else json_decref(arr);
  st_bitfield_free(&posted);
  st_node_partitions_free(parts, np);
  return view_end(&v, 0);
}

static void size_str(const mpz_t bytes, const char *b, char *out, size_t n) {
  st_size_str(mpz_get_d(bytes), b, out, n);
}

static double pct(const mpz_t a, const mpz_t b) { return mpz_sgn(b) ? 100.0 * mpz_get_d(a) / mpz_get_d(b) : 0; }

/* attoFIL as FIL ("945.389642209971088202"). */
static void fil_str(const mpz_t v, char *out, size_t n) {
  st_buf b = ST_BUF_INIT;
  st_fil_format(v, &b);
  snprintf(out, n, "%s", st_buf_cstr(&b));
  st_buf_free(&b);
}

/* The Mode line: the running miner's mode, or "not running". */
static void run_mode(view *v, char *out, size_t n) {
  st_err err;
  snprintf(out, n, "not running");
  if (miner_connect_self(v->repo, &v->miner, &err)) return;
  json_t *ri;
  if (!st_miner_api_call(v->miner, "MinerRunInfo", NULL, &ri, &err) && json_is_string(json_object_get(ri, "Mode")))
    snprintf(out, n, "%s", json_string_value(json_object_get(ri, "Mode")));
  json_decref(ri);
}

static void info_json(const view *v, const st_miner_status *f, const char *mode) {
  char *atto[7];
  const mpz_srcptr amounts[7] = {
      f->funds.balance, f->funds.precommit_deposits, f->funds.locked_funds, f->available, f->worker, f->escrow,
      f->locked};
  for (int i = 0; i < 7; i++) atto[i] = mpz_get_str(NULL, 10, amounts[i]);
  json_t *o =
      json_pack("{ss ss sI so so so so sI sI sI sf ss ss ss ss ss ss ss}", "Mode", mode, "Miner", v->addr, "SectorSize",
                (json_int_t)v->cfg.info->size, "RawBytePower", st_chain_json_bigint(f->power.raw), "TotalRawBytePower",
                st_chain_json_bigint(f->power.total_raw), "QualityAdjPower", st_chain_json_bigint(f->power.qa),
                "TotalQualityAdjPower", st_chain_json_bigint(f->power.total_qa), "Committed",
                (json_int_t)mpz_get_ui(f->committed), "Proving", (json_int_t)mpz_get_ui(f->proving), "Faulty",
                (json_int_t)mpz_get_ui(f->faulty), "ExpectedWinsPerDay", f->wins_per_day, "MinerBalance", atto[0],
                "PreCommit", atto[1], "Locked", atto[2], "Available", atto[3], "WorkerBalance", atto[4], "MarketEscrow",
                atto[5], "MarketLocked", atto[6]);
  miner_print_json(o);
  json_decref(o);
  for (int i = 0; i < 7; i++) free(atto[i]);
}

static void info_text(const view *v, const st_miner_status *f, const char *mode) {
  char s1[64], s2[64], s3[64], s4[64], bl[96], pc[96], lk[96], av[96], wbs[96], me[96], ml[96];
  fil_str(f->funds.balance, bl, sizeof bl);
  fil_str(f->funds.precommit_deposits, pc, sizeof pc);
  fil_str(f->funds.locked_funds, lk, sizeof lk);
  fil_str(f->available, av, sizeof av);
  fil_str(f->worker, wbs, sizeof wbs);
  fil_str(f->escrow, me, sizeof me);
  fil_str(f->locked, ml, sizeof ml);
  printf("Mode: %s\n", mode);
  printf("Miner: %s\n", v->addr);
  bytes_str((int64_t)v->cfg.info->size, s1, sizeof s1); /* the seed's "2 KiB" */
  printf("Sector Size: %s\n", s1);
  size_str(f->power.raw, "B", s1, sizeof s1);
  size_str(f->power.total_raw, "B", s2, sizeof s2);
  printf("Byte Power:   %s / %s (%.4f%%)\n", s1, s2, pct(f->power.raw, f->power.total_raw));
  size_str(f->power.qa, "", s1, sizeof s1);
  size_str(f->power.total_qa, "", s2, sizeof s2);
  printf("Actual Power: %s / %s (%.4f%%)\n", s1, s2, pct(f->power.qa, f->power.total_qa));
  size_str(f->committed, "B", s3, sizeof s3);
  printf("\tCommitted: %s\n", s3);
  size_str(f->proving, "B", s3, sizeof s3);
  size_str(f->faulty, "B", s4, sizeof s4);
  printf("\tProving: %s (%s Faulty, %.2f%%)\n", s3, s4, pct(f->faulty, f->committed));
  if (f->wins_per_day > 0)
    printf("Expected block win rate: %.4f/day (every %.3gs)\n", f->wins_per_day, 86400.0 / f->wins_per_day);
  else printf("Expected block win rate: 0/day (no power)\n");
  printf("\nMiner Balance: %s\n\tPreCommit:   %s\n\tLocked:      %s\n\tAvailable:   %s\n", bl, pc, lk, av);
  printf("Worker Balance: %s\nMarket (Escrow):  %s\nMarket (Locked):  %s\n", wbs, me, ml);
}

int miner_cmd_info(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {.cli = ST_CLI_INIT(flags)};
  int rc = view_start(&v, argc, argv, 0, "spacetime-miner info", "[--json]",
                      "The miner's power, proving state, expected wins and balances, as the seed's `info` shows them.",
                      NEED_NODE);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  st_miner_status f;
  st_miner_status_init(&f);
  rc = st_miner_status_read(v.node, &v.cfg, &f, &err) ? miner_fail(&err) : 0;
  if (!rc) {
    char mode[64];
    run_mode(&v, mode, sizeof mode);
    if (v.json) info_json(&v, &f, mode);
    else info_text(&v, &f, mode);
  }
  st_miner_status_free(&f);
  return view_end(&v, rc);
}

int miner_cmd_proving_info(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {.cli = ST_CLI_INIT(flags)};
  int rc = view_start(&v, argc, argv, 0, "spacetime-miner proving info", "[--json]",
                      "The current proving period and deadline with its epochs, and the miner's faults and recoveries.",
                      NEED_NODE);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  st_deadline_info d;
  st_node_sector_count counts;
  if (st_node_proving_deadline(v.node, v.cfg.miner, NULL, &d, &err) ||
      st_node_get_sector_count(v.node, v.cfg.miner, &counts, &err))
    return view_end(&v, miner_fail(&err));
  st_node_partition *parts;
  size_t np;
  uint64_t dl_sectors = 0, recovering = 0;
  if (st_node_partitions(v.node, v.cfg.miner, d.index, NULL, &parts, &np, &err)) return view_end(&v, miner_fail(&err));
  for (size_t p = 0; p < np; p++) dl_sectors += st_bitfield_count(&parts[p].live);
  st_node_partitions_free(parts, np);
  for (int64_t i = 0; i < d.policy.deadlines; i++) {
    if (st_node_partitions(v.node, v.cfg.miner, (uint64_t)i, NULL, &parts, &np, &err))
      return view_end(&v, miner_fail(&err));
    for (size_t p = 0; p < np; p++) recovering += st_bitfield_count(&parts[p].recovering);
    st_node_partitions_free(parts, np);
  }
  int64_t live = (int64_t)counts.live, faulty = (int64_t)counts.faulty;
  int64_t h = d.current_epoch, next = d.period_start + d.policy.proving_period;
  if (v.json) {
    json_t *o = json_pack("{ss sI sI sI sI sI sI sI sI sI sI sI sI sI}", "Miner", v.addr, "CurrentEpoch", (json_int_t)h,
                          "PeriodStart", (json_int_t)d.period_start, "NextPeriodStart", (json_int_t)next, "Faults",
                          (json_int_t)faulty, "Live", (json_int_t)live, "Recovering", (json_int_t)recovering,
                          "DeadlineIndex", (json_int_t)d.index, "DeadlineSectors", (json_int_t)dl_sectors, "Open",
                          (json_int_t)d.open, "Close", (json_int_t)d.close, "Challenge", (json_int_t)d.challenge,
                          "FaultCutoff", (json_int_t)d.fault_cutoff, "Deadlines", (json_int_t)d.policy.deadlines);
    miner_print_json(o);
    json_decref(o);
    return view_end(&v, 0);
  }
  char a[48], b[48];
  printf("Miner: %s\n", v.addr);
  printf("Current Epoch:           %lld\n", (long long)h);
  printf("Proving Period Start:    %lld (%s)\n", (long long)d.period_start,
         epochs_from(d.period_start, h, a, sizeof a));
  printf("Next Period Start:       %lld (%s)\n\n", (long long)next, epochs_from(next, h, b, sizeof b));
  printf("Faults:      %lld (%.2f%%)\n", (long long)faulty, live ? 100.0 * (double)faulty / (double)live : 0.0);
  printf("Recovering:  %llu\n\n", (unsigned long long)recovering);
  printf("Deadline Index:       %llu of %lld\n", (unsigned long long)d.index, (long long)d.policy.deadlines);
  printf("Deadline Sectors:     %llu\n", (unsigned long long)dl_sectors);
  printf("Deadline Open:        %lld (%s)\n", (long long)d.open, epochs_from(d.open, h, a, sizeof a));
  printf("Deadline Close:       %lld (%s)\n", (long long)d.close, epochs_from(d.close, h, a, sizeof a));
  printf("Deadline Challenge:   %lld (%s)\n", (long long)d.challenge, epochs_from(d.challenge, h, a, sizeof a));
  printf("Deadline FaultCutoff: %lld (%s)\n", (long long)d.fault_cutoff, epochs_from(d.fault_cutoff, h, a, sizeof a));
  return view_end(&v, 0);
}

int miner_cmd_proving_check(int argc, char **argv) {
  st_flag flags[] = {
      REPO_FLAG, NODE_FLAG, JSON_FLAG,
      ST_FLAG("slow", ST_FLAG_BOOL, NULL,
              "prove each partition with fresh random challenges and verify it (reads every challenged leaf)"),
      ST_FLAG("only-bad", ST_FLAG_BOOL, NULL, "list only the sectors that fail")};
  view v = {.cli = ST_CLI_INIT(flags)};
  int rc = view_start(
      &v, argc, argv, 1, "spacetime-miner proving check", "N [--slow] [--only-bad] [--json]",
      "Whether the running poster can read (with --slow: prove) each sector of deadline N, from where it looks for the files. Exits 1 when any sector is bad, 0 when all are good.",
      NEED_MINER);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  uint64_t d;
  if (v.cli.npos != 1)
    return view_end(&v, st_cli_fail("give the deadline index, e.g. 'spacetime-miner proving check 3'"));
  if (st_parse_u64(v.cli.pos[0], "deadline index", &d, &err)) return view_end(&v, st_cli_fail("%s", err.msg));
  bool only_bad = st_cli_has(&v.cli, "only-bad");
  json_t *res;
  if (st_miner_api_call(v.miner, "ProvingCheck", json_pack("[I b]", (json_int_t)d, st_cli_has(&v.cli, "slow")), &res,
                        &err))
    return view_end(&v, miner_fail(&err));
  size_t bad = 0, i;
  json_t *e, *out = json_array();
  if (!v.json) printf("%-10s%-8s%-7s%s\n", "partition", "sector", "status", "reason / path");
  json_array_foreach(res, i, e) {
    bool good = json_is_true(json_object_get(e, "Good"));
    bad += !good;
    if (only_bad && good) continue;
    if (v.json) json_array_append(out, e);
    else
      printf("%-10lld%-8lld%-7s%s\n", (long long)json_integer_value(json_object_get(e, "Partition")),
             (long long)json_integer_value(json_object_get(e, "Sector")), good ? "good" : "bad",
             json_string_value(json_object_get(e, good ? "Cache" : "Err")));
  }
  if (v.json) miner_print_json(out);
  else printf("%zu sector(s), %zu bad\n", json_array_size(res), bad);
  json_decref(out);
  json_decref(res);
  return view_end(&v, bad ? 1 : 0); /* scripts read a bad sector from the exit status */
}

int miner_cmd_sectors_pledge(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {.cli = ST_CLI_INIT(flags)};
  int rc = view_start(&v, argc, argv, 0, "spacetime-miner sectors pledge", "[--json]",
                      "Add a committed-capacity sector; the running sealer seals and commits it.", NEED_MINER);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  json_t *r;
  if (st_miner_api_call(v.miner, "PledgeSector", NULL, &r, &err)) return view_end(&v, miner_fail(&err));
  if (v.json) printf("{\"SectorNumber\": %lld}\n", (long long)json_integer_value(json_object_get(r, "Number")));
  else printf("pledged sector %lld\n", (long long)json_integer_value(json_object_get(r, "Number")));
  json_decref(r);
  return view_end(&v, 0);
}

/* "<machine id>@<host>" of each machine of the cluster, for the Holder column ("" on failure). */
static const char *holder_name(const json_t *machines, const json_t *holder, char out[300]) {
  out[0] = 0;
  if (!json_is_object(holder)) return "-";
  int64_t id = json_integer_value(json_object_get(holder, "Machine"));
  size_t i;
  const json_t *m;
  json_array_foreach(machines, i, m) if (json_integer_value(json_object_get(m, "id")) == id)
      snprintf(out, 300, "%lld@%.200s%s", (long long)id, json_string_value(json_object_get(m, "host")),
               json_is_true(json_object_get(holder, "Live")) ? "" : " (lapsed)");
  if (!out[0]) snprintf(out, 300, "%lld", (long long)id);
  return out;
}

int miner_cmd_sectors_list(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {.cli = ST_CLI_INIT(flags)};
  int rc = view_start(&v, argc, argv, 0, "spacetime-miner sectors list", "[--json]",
                      "Every sector of the miner, with its state and the process that holds it.", NEED_MINER);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  json_t *nums, *out, *e, *st, *machines = NULL;
  if (st_miner_api_call(v.miner, "SectorsList", NULL, &nums, &err)) return view_end(&v, miner_fail(&err));
  if (!v.json && st_miner_api_call(v.miner, "Cluster", NULL, &machines, &err)) machines = NULL;
  const json_t *ms = json_object_get(machines, "machines");
  out = json_array();
  size_t i;
  char who[300];
  if (!v.json) printf("%-6s%-22s%-8s%-24s%s\n", "ID", "State", "Retries", "Holder", "Error");
  json_array_foreach(nums, i, e) {
    if (st_miner_api_call(v.miner, "SectorsStatus", json_pack("[O b]", e, 0), &st, &err)) {
      json_decref(nums);
      json_decref(out);
      json_decref(machines);
      return view_end(&v, miner_fail(&err));
    }
    if (v.json) json_array_append(out, st);
    else
      printf("%-6lld%-22s%-8lld%-24s%s\n", (long long)json_integer_value(json_object_get(st, "SectorID")),
             json_string_value(json_object_get(st, "State")),
             (long long)json_integer_value(json_object_get(st, "Retries")),
             holder_name(ms, json_object_get(st, "Holder"), who), json_string_value(json_object_get(st, "LastErr")));
    json_decref(st);
  }
  if (v.json) miner_print_json(out);
  json_decref(out);
  json_decref(nums);
  json_decref(machines);
  return view_end(&v, 0);
}

int miner_cmd_cluster(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {.cli = ST_CLI_INIT(flags)};
  int rc =
      view_start(&v, argc, argv, 0, "spacetime-miner cluster", "[--json]",
                 "Every process of the miner's cluster (each `run` that joined it): host, pid, roles, last contact "
                 "and the work it holds now: sectors sealing, WindowPoSt partitions, block rounds, declarations.",
                 NEED_MINER);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  json_t *reply;
  if (st_miner_api_call(v.miner, "Cluster", NULL, &reply, &err)) return view_end(&v, miner_fail(&err));
  if (v.json) {
    miner_print_json(reply);
    json_decref(reply);
    return view_end(&v, 0);
  }
  int64_t now = json_integer_value(json_object_get(reply, "now")); /* the registry's clock */
  const json_t *ms = json_object_get(reply, "machines");
  printf("%-8s%-20s%-9s%-15s%-10s%-14s%s\n", "Machine", "Host", "PID", "Roles", "State", "Last contact", "Holds");
  size_t i;
  const json_t *m;
  json_array_foreach(ms, i, m) {
    const char *state = json_is_integer(json_object_get(m, "stopped"))    ? "stopped"
                        : json_integer_value(json_object_get(m, "alive")) ? "alive"
                                                                          : "lapsed";
    char ago[32];
    snprintf(ago, sizeof ago, "%llds ago", (long long)(now - json_integer_value(json_object_get(m, "last_contact"))));
    printf("%-8lld%-20.19s%-9lld%-15s%-10s%-14s%lld sectors, %lld partitions, %lld rounds, %lld declarations\n",
           (long long)json_integer_value(json_object_get(m, "id")), json_string_value(json_object_get(m, "host")),
           (long long)json_integer_value(json_object_get(m, "pid")), json_string_value(json_object_get(m, "roles")),
           state, ago, (long long)json_integer_value(json_object_get(m, "sealing")),
           (long long)json_integer_value(json_object_get(m, "wdpost")),
           (long long)json_integer_value(json_object_get(m, "blocks")),
           (long long)json_integer_value(json_object_get(m, "declarations")));
  }
  const json_t *lapsed = json_object_get(reply, "lapsed_sectors"), *l;
  json_array_foreach(lapsed, i, l) {
    if (!i) printf("\nSectors under way whose holder's lease lapsed (another sealer takes them):\n");
    printf("  sector %lld (%s), machine %lld, lapsed %llds ago\n",
           (long long)json_integer_value(json_object_get(l, "number")), json_string_value(json_object_get(l, "state")),
           (long long)json_integer_value(json_object_get(l, "owner")),
           (long long)(now - json_integer_value(json_object_get(l, "lease_until"))));
  }
  json_decref(reply);
  return view_end(&v, 0);
}

int miner_cmd_sectors_status(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {.cli = ST_CLI_INIT(flags)};
  int rc = view_start(&v, argc, argv, 1, "spacetime-miner sectors status", "N [--json]",
                      "One sector: its sealing state, error and files, and what the chain holds for it.", NEED_MINER);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  uint64_t num;
  if (v.cli.npos != 1)
    return view_end(&v, st_cli_fail("give the sector number, e.g. 'spacetime-miner sectors status 1'"));
  if (st_parse_u64(v.cli.pos[0], "sector number", &num, &err)) return view_end(&v, st_cli_fail("%s", err.msg));
  json_t *x;
  if (st_miner_api_call(v.miner, "SectorsStatus", json_pack("[I b]", (json_int_t)num, 1), &x, &err))
    return view_end(&v, miner_fail(&err));
  if (v.json) {
    miner_print_json(x);
    json_decref(x);
    return view_end(&v, 0);
  }
  const json_t *oc = json_object_get(x, "OnChain");
  const char *root = json_string_value(json_object_get(x, "Storage")),
             *last = json_string_value(json_object_get(x, "LastErr"));
  printf("SectorID: %llu\nStatus: %s\n", (unsigned long long)num, json_string_value(json_object_get(x, "State")));
  if (root && *root) printf("Storage: %s\n", root);
  if (json_is_null(oc)) printf("OnChain: no\n");
  else
    printf("OnChain: yes\nSealedCID: %s\nActivation: %lld\nExpiration: %lld\n",
           json_string_value(json_object_get(json_object_get(oc, "SealedCID"), "/")),
           (long long)json_integer_value(json_object_get(oc, "Activation")),
           (long long)json_integer_value(json_object_get(oc, "Expiration")));
  printf("Retries: %lld\nLast Error: %s\n", (long long)json_integer_value(json_object_get(x, "Retries")),
         last && *last ? last : "none");
  json_decref(x);
  return view_end(&v, 0);
}

int miner_cmd_storage_list(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {.cli = ST_CLI_INIT(flags)};
  int rc = view_start(
      &v, argc, argv, 0, "spacetime-miner storage list", "[--json]",
      "The storage the running miner's sectors live on: each registry node (or the local dist-path) with its path on this host.",
      NEED_MINER);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  json_t *list, *e;
  if (st_miner_api_call(v.miner, "StorageList", NULL, &list, &err)) return view_end(&v, miner_fail(&err));
  if (v.json) {
    miner_print_json(list);
    json_decref(list);
    return view_end(&v, 0);
  }
  size_t i;
  int64_t now = (int64_t)time(NULL);
  json_array_foreach(list, i, e) {
    const char *path = json_string_value(json_object_get(e, "Path")),
               *hb_err = json_string_value(json_object_get(e, "HeartbeatErr"));
    int64_t hb = json_integer_value(json_object_get(e, "LastHeartbeat")),
            cap = json_integer_value(json_object_get(e, "Capacity")),
            avail = json_integer_value(json_object_get(e, "Available"));
    char c[32], a[32];
    bytes_str(cap, c, sizeof c);
    bytes_str(avail, a, sizeof a);
    printf("%s%lld: %s (%s)\n", i ? "\n" : "", (long long)json_integer_value(json_object_get(e, "ID")),
           json_string_value(json_object_get(e, "Host")), json_string_value(json_object_get(e, "Type")));
    printf("\tPath: %s (%s)\n", path,
           json_is_true(json_object_get(e, "Reachable")) ? "reachable" : "NOT FOUND on this host");
    printf("\tSpace: %s of %s available\n", a, c);
    printf("\tSectors: %lld sealed here\n", (long long)json_integer_value(json_object_get(e, "Sectors")));
    if (json_integer_value(json_object_get(e, "Group")) >= 0)
      printf("\tGroup: %lld\n", (long long)json_integer_value(json_object_get(e, "Group")));
    if (hb)
      printf("\tHeartbeat: %llds ago%s%s\n", (long long)(now - hb), hb_err && *hb_err ? ", error: " : "",
             hb_err && *hb_err ? hb_err : "");
    else if (json_integer_value(json_object_get(e, "ID")) > 0) printf("\tHeartbeat: never\n");
  }
  json_decref(list);
  return view_end(&v, 0);
}

int miner_cmd_storage_deals_list(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {.cli = ST_CLI_INIT(flags)};
  int rc = view_start(&v, argc, argv, 0, "spacetime-miner storage-deals list", "[--json]",
                      "The storage deals this miner took: client, piece, state, deal ID and sector.", NEED_MINER);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  json_t *deals, *d;
  if (st_miner_api_call(v.miner, "MarketListDeals", NULL, &deals, &err)) return view_end(&v, miner_fail(&err));
  if (v.json) {
    miner_print_json(deals);
    json_decref(deals);
    return view_end(&v, 0);
  }
  printf("%-64s  %6s  %-24s  %-8s  %6s  %-8s  %s\n", "ProposalCid", "DealId", "State", "Client", "Sector", "Verified",
         "Size");
  size_t i;
  json_array_foreach(deals, i, d) {
    char size[32], client[ST_ADDR_STR_MAX];
    st_size_str((double)json_integer_value(json_object_get(d, "PieceSize")), "B", size, sizeof size);
    snprintf(client, sizeof client, "%.12s", json_string_value(json_object_get(d, "Client")));
    printf("%-64s  %6lld  %-24s  %-8s  %6lld  %-8s  %s\n", json_string_value(json_object_get(d, "ProposalCid")),
           (long long)json_integer_value(json_object_get(d, "DealID")), json_string_value(json_object_get(d, "State")),
           client, (long long)json_integer_value(json_object_get(d, "SectorNumber")),
           json_is_true(json_object_get(d, "Verified")) ? "true" : "false", size);
    const char *msg = json_string_value(json_object_get(d, "Message"));
    if (msg && *msg) printf("    %s\n", msg);
  }
  json_decref(deals);
  return view_end(&v, 0);
}

/* st_miner_status: the chain's figures of a miner for `info`. */
#include "miner/st_miner_status.h"

#include <string.h>

#include "chain/st_wincount.h"

void st_miner_status_init(st_miner_status *s) {
  memset(s, 0, sizeof *s);
  st_node_power_init(&s->power);
  st_node_miner_funds_init(&s->funds);
  mpz_inits(s->available, s->worker, s->escrow, s->locked, s->committed, s->proving, s->faulty, NULL);
}

void st_miner_status_free(st_miner_status *s) {
  st_node_power_free(&s->power);
  st_node_miner_funds_free(&s->funds);
  mpz_clears(s->available, s->worker, s->escrow, s->locked, s->committed, s->proving, s->faulty, NULL);
  memset(s, 0, sizeof *s);
}

static st_code read_chain(st_rpc_client *node, const st_miner_config *cfg, st_miner_status *out, st_err *err) {
  st_address miner;
  uint64_t genesis;
  st_address_from_id(cfg->miner, &miner, NULL);
  st_code code = st_node_miner_power(node, cfg->miner, &out->power, err);
  if (!code) code = st_node_get_miner_funds(node, cfg->miner, &out->funds, err);
  if (!code) code = st_node_miner_available(node, cfg->miner, out->available, err);
  if (!code) code = st_node_get_sector_count(node, cfg->miner, &out->counts, err);
  if (!code) code = st_node_wallet_balance(node, &cfg->worker, out->worker, err);
  if (!code) code = st_node_network(node, &out->net, &genesis, err);
  if (!code) code = st_node_market_balance(node, &miner, out->escrow, out->locked, err);
  return code;
}

st_code st_miner_status_read(st_rpc_client *node, const st_miner_config *cfg, st_miner_status *out, st_err *err) {
  st_miner_status_free(out);
  st_miner_status_init(out);
  st_code code = read_chain(node, cfg, out, err);
  if (code) {
    st_miner_status_free(out);
    st_miner_status_init(out);
    return code;
  }
  mpz_set_ui(out->committed, (unsigned long)out->counts.live);
  mpz_mul_ui(out->committed, out->committed, cfg->info->size);
  mpz_set_ui(out->faulty, (unsigned long)out->counts.faulty);
  mpz_mul_ui(out->faulty, out->faulty, cfg->info->size);
  mpz_sub(out->proving, out->committed, out->faulty);
  int64_t delay = out->net.block_delay;
  if (mpz_sgn(out->power.total_qa) && delay > 0)
    out->wins_per_day = (double)ST_BLOCKS_PER_EPOCH * mpz_get_d(out->power.qa) / mpz_get_d(out->power.total_qa) *
                        86400.0 / (double)delay;
  return ST_OK;
}

/* st_fullnode: its header's method list, group by group, is exactly the method table of a node
 * (nodefx's; so the list a reader trusts stays complete), and the table passes st_rpc's checks (one run or subscribe
 * per entry, no args without a parse, each name once per API version). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/st_fs.h"
#include "node/st_fullnode.h"
#include "nodefx.h"
#include "testutil.h"

#define MAX_NAMES 128

/* The method names the header lists: the words of its "<group>: A, B, C." lines (and their
 * continuation lines); for notify, the first word only (the rest is prose). */
static size_t listed(char names[][64], st_buf *header) {
  static const char *const GROUPS[] = {"common", "chain",  "state",  "miner", "market",
                                       "mpool",  "wallet", "mining", "notify"};
  size_t n = 0;
  bool in_list = false, first_only = false;
  char *save = NULL;
  for (char *line = strtok_r((char *)header->data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *p = line;
    while (*p == ' ' || *p == '*' || *p == '/') p++;
    char *colon = strchr(p, ':');
    bool group = false;
    for (size_t g = 0; colon && g < sizeof GROUPS / sizeof GROUPS[0]; g++)
      group |= (size_t)(colon - p) == strlen(GROUPS[g]) && !strncmp(p, GROUPS[g], strlen(GROUPS[g]));
    if (group) {
      in_list = true;
      first_only = !strncmp(p, "notify", 6);
      p = colon + 1;
    } else if (!in_list || strncmp(line, " *    ", 6)) {
      in_list = false;
      continue;
    }
    for (char *w = p; *w && in_list;) {
      while (*w && !isalnum((unsigned char)*w)) w++;
      char *e = w;
      while (isalnum((unsigned char)*e)) e++;
      if (e > w && isupper((unsigned char)*w) && strncmp(w, "ST_", 3)) {
        snprintf(names[n++], 64, "%.*s", (int)(e - w), w);
        if (first_only) in_list = false;
      }
      if (*e == '.' || !*e) {
        if (*e == '.') in_list = false;
        break;
      }
      w = e;
    }
  }
  return n;
}

static bool in_table(const st_rpc_method *m, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(m[i].name + strlen("Filecoin."), name)) return true;
  return false;
}

static void test_header_lists_the_table(void **state) {
  nodefx *f = *state;
  st_buf header = ST_BUF_INIT;
  st_err err;
  assert_int_equal(st_fs_read_file(ST_SOURCE_DIR "/lib/node/st_fullnode.h", 1 << 20, &header, &err), ST_OK);
  st_buf_putc(&header, 0);
  static char names[MAX_NAMES][64];
  size_t k = listed(names, &header);
  size_t n;
  const st_rpc_method *m = st_fullnode_methods(st_daemon_fullnode(f->daemon), &n);
  assert_true(k > 50);
  for (size_t i = 0; i < k; i++)
    if (!in_table(m, n, names[i])) fail_msg("st_fullnode.h lists %s, which the table does not serve", names[i]);
  for (size_t i = 0; i < n; i++) {
    bool found = false;
    for (size_t j = 0; j < k && !found; j++) found = !strcmp(m[i].name + strlen("Filecoin."), names[j]);
    if (!found) fail_msg("the table serves %s, which st_fullnode.h does not list", m[i].name);
  }
  st_buf_free(&header);
}

static void test_table_checks(void **state) {
  nodefx *f = *state;
  size_t n;
  const st_rpc_method *m = st_fullnode_methods(st_daemon_fullnode(f->daemon), &n);
  uint8_t secret[ST_JWT_SECRET_LEN] = {1};
  st_rpc_opts o = {.methods = m, .nmethods = n, .jwt_secret = secret};
  st_rpc *rpc;
  st_err err;
  if (st_rpc_new(&o, &rpc, &err)) fail_msg("%s", err.msg);
  st_rpc_free(rpc);
  for (size_t i = 0; i < n; i++) assert_int_equal(strncmp(m[i].name, "Filecoin.", 9), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_header_lists_the_table),
                                     cmocka_unit_test(test_table_checks)};
  return cmocka_run_group_tests(tests, nf_group_setup, nf_group_teardown);
}

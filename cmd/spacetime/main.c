/* spacetime: the node's client program. It dispatches to its verbs; each verb parses its flags
 * and calls the library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/st_cli.h"
#include "core/st_log.h"

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} COMMANDS[] = {
    {"devnet", st_cmd_devnet, "run the whole cluster on this machine: daemon, registry, miners"},
    {"daemon", st_cmd_daemon, "run the chain node: store, message pool, wallet, JSON-RPC API"},
    {"genesis", st_cmd_genesis, "make a network's genesis file"},
    {"chain", st_cmd_chain, "read the chain: list, head, getblock, getmessage"},
    {"wallet", st_cmd_wallet, "the node's wallet: new, list, balance, default, export, import"},
    {"send", st_cmd_send, "send FIL"},
    {"mpool", st_cmd_mpool, "the message pool: pending"},
    {"state", st_cmd_state, "read actors: get-actor, lookup"},
    {"auth", st_cmd_auth, "API tokens: create-token"},
    {"client", st_cmd_client, "storage deals: import, deal, list-deals, retrieve, add-balance, balance"},
    {"filplus", st_cmd_filplus,
     "the verified registry: add-verifier, grant-datacap, check-client-datacap, check-verifier"},
    {"util", st_cmd_util, "encode and inspect Filecoin formats: addresses, CIDs, CBOR, bitfields"},
};

static void usage(FILE *out) {
  fprintf(
      out,
      "usage: spacetime <command> [flags]\n\nspacetime is the client of a spacetime storage-proving cluster.\n\ncommands:\n");
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
    fprintf(out, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
  fprintf(out,
          "\nRun 'spacetime <command> --help' for a command's flags.\n"
          "Environment: SPACETIME_LOG_LEVEL sets log levels, e.g. \"info,storageminer=debug\".\n");
}

int main(int argc, char **argv) {
  const char *levels = getenv("SPACETIME_LOG_LEVEL");
  st_err err;
  if (levels && *levels && st_log_configure(levels, &err)) return st_cli_fail("SPACETIME_LOG_LEVEL: %s", err.msg);
  if (argc < 2) {
    usage(stderr);
    return 1;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
    printf("spacetime %s\n", ST_VERSION);
    return 0;
  }
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
    if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].run(argc - 2, argv + 2);
  return st_cli_fail("unknown command \"%s\" (run 'spacetime --help')", argv[1]);
}

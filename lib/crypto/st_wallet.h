/* st_wallet: a node's keys by address, as Lotus's wallet keeps them: each secp256k1 key in the
 * keystore (st_keystore) under "wallet-<t address>", and the default key under "default". The
 * daemon signs with it (messages, blocks, VRFs); `spacetime devnet` fills it before the daemon
 * starts. Every out is initialised on return, success or not (st_err.h): an address is zeroed
 * and a key wiped on failure. */
#ifndef ST_WALLET_H
#define ST_WALLET_H

#include <stdint.h>

#include "codec/st_address.h"
#include "core/st_err.h"
#include "crypto/st_keystore.h"

typedef struct st_wallet {
  st_keystore ks;
} st_wallet;

/* Opens (creating if needed) the wallet in keystore folder dir. */
st_code st_wallet_open(st_wallet *w, const char *dir, st_err *err);

/* A new secp256k1 key; *addr gets its address. The first key of a wallet becomes its default
 * (WalletNew). */
st_code st_wallet_new(const st_wallet *w, st_address *addr, st_err *err);
/* The same without the default: a key made while the node is not running (spacetime devnet). */
st_code st_wallet_generate(const st_wallet *w, st_address *addr, st_err *err);
/* Stores a secp256k1 private key (checked) under its address (WalletImport). */
st_code st_wallet_import(const st_wallet *w, const uint8_t sk[32], st_address *addr, st_err *err);

/* The private key of key address addr (wipe it after use); ST_ENOENT "the wallet has no key for
 * t1..." when there is none. */
st_code st_wallet_key(const st_wallet *w, const st_address *addr, uint8_t sk[32], st_err *err);
/* The default key's address; ST_ENOENT when the wallet has none. */
st_code st_wallet_default(const st_wallet *w, st_address *addr, st_err *err);
/* Takes the key of addr out of the wallet (WalletDelete), as Lotus does: it is kept as
 * "trash-<t address>" (recoverable by hand), then its "wallet-" name is removed, and the
 * default too when it was this key. ST_ENOENT when the wallet has no key for addr. */
st_code st_wallet_delete(const st_wallet *w, const st_address *addr, st_err *err);
/* Every key address, in the keystore's order (sorted by name); *addrs is the caller's to free. */
st_code st_wallet_list(const st_wallet *w, st_address **addrs, size_t *n, st_err *err);

#endif

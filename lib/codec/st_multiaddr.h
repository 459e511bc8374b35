/* st_multiaddr: multiaddrs in binary form, as a Filecoin miner's MinerInfo.Multiaddrs holds
 * them on chain (go-multiaddr's Bytes()), and their text form.
 *
 * Binary: for each component, uvarint(protocol code) then its value: ip4 4 bytes, ip6 16
 * bytes, tcp and udp a 2-byte big-endian port, dns/dns4/dns6 a uvarint length and the name,
 * http and https nothing. Codes from the multicodec table: ip4 4, tcp 6, dns 53, dns4 54,
 * dns6 55, ip6 41, udp 273, https 443, http 480. Other protocols are refused by name or code.
 * (Text multiaddrs of API files, and their URLs, are st_apiinfo's.)
 *
 * Every out is initialised on return, success or not (st_err.h): on failure out's cap bytes are
 * zero and *len is 0. */
#ifndef ST_MULTIADDR_H
#define ST_MULTIADDR_H

#include <stddef.h>
#include <stdint.h>

#include "core/st_err.h"

#define ST_MULTIADDR_MAX 256 /* bytes, binary */

/* "/ip4/127.0.0.1/tcp/2345/http" into out (cap bytes); *len gets its length. Errors name the
 * component and its position in the text. */
st_code st_multiaddr_from_text(const char *text, uint8_t *out, size_t cap, size_t *len, st_err *err);
/* The text form of len bytes at p into out (cap bytes, NUL-terminated). Errors name the byte
 * offset. */
st_code st_multiaddr_to_text(const uint8_t *p, size_t len, char *out, size_t cap, st_err *err);

#endif

/* st_buf: a growable byte buffer with a sticky failure flag.
 *
 * Writers append without checking each call; if any allocation fails the buffer stops growing,
 * remembers the failure, and st_buf_status reports ST_ENOMEM once at the end. The buffer owns
 * its data; st_buf_free releases it. The bytes are always followed by a NUL that len does not
 * count, so text built in a buffer can be used as a C string. */
#ifndef ST_BUF_H
#define ST_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/st_err.h"

typedef struct st_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
  bool failed;
} st_buf;

#define ST_BUF_INIT \
  { NULL, 0, 0, false }

void st_buf_init(st_buf *b);
void st_buf_free(st_buf *b);
void st_buf_reset(st_buf *b);                 /* len = 0, keeps capacity and clears failure */
bool st_buf_reserve(st_buf *b, size_t extra); /* room for extra more bytes */
void st_buf_append(st_buf *b, const void *p, size_t n);
void st_buf_putc(st_buf *b, uint8_t c);
void st_buf_puts(st_buf *b, const char *s);
void st_buf_printf(st_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *st_buf_cstr(const st_buf *b); /* "" for an empty buffer */
/* ST_OK, or ST_ENOMEM (with a message) if any write failed. */
st_code st_buf_status(const st_buf *b, st_err *err);
/* Moves the bytes out: returns them (NUL-terminated, caller frees) and leaves b empty. */
uint8_t *st_buf_take(st_buf *b, size_t *len);

#endif

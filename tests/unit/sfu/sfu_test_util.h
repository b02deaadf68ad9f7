/*
 * Helpers the SFU unit tests share. Each asserts with Criterion, so a failure names the
 * test that called it.
 */
#ifndef VEIL_TESTS_UNIT_SFU_TEST_UTIL_H
#define VEIL_TESTS_UNIT_SFU_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "sfu/stun.h"

/* A STUN message built attribute by attribute, so a test can leave out, reorder or add
 * what the convenience encoders never would. The builder points into this struct: keep
 * it in place between begin and finish. */
typedef struct sfu_test_stun {
  uint8_t b[256]; /* the message */
  veil_writer_t w;
  sfu_stun_builder_t sb;
} sfu_test_stun_t;

/* Starts a Binding message of class cls whose first attribute is USERNAME; returns the
 * builder for the caller's attributes. */
sfu_stun_builder_t *sfu_test_stun_begin(sfu_test_stun_t *m, sfu_stun_class_t cls,
                                        const uint8_t tid[SFU_STUN_TID_LEN],
                                        const char *username);
/* Completes the message (asserting the builder saw no error); returns its length. */
size_t sfu_test_stun_finish(sfu_test_stun_t *m);

#endif

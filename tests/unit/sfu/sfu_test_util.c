#include "sfu_test_util.h"

#include <criterion/criterion.h>
#include <string.h>

sfu_stun_builder_t *sfu_test_stun_begin(sfu_test_stun_t *m, sfu_stun_class_t cls,
                                        const uint8_t tid[SFU_STUN_TID_LEN],
                                        const char *username) {
  veil_writer_init(&m->w, m->b, sizeof(m->b));
  sfu_stun_begin(&m->sb, &m->w, SFU_STUN_METHOD_BINDING, cls, tid);
  sfu_stun_put_attr(&m->sb, SFU_STUN_ATTR_USERNAME, username, strlen(username));
  return &m->sb;
}

size_t sfu_test_stun_finish(sfu_test_stun_t *m) {
  size_t n;
  cr_assert_eq(sfu_stun_finish(&m->sb, &n), 0);
  return n;
}

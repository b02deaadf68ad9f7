#include <criterion/criterion.h>

#include "clients/load/target.h"
#include "common/err.h"

Test(load_target, parses_host_port_and_path) {
  load_target_t t;
  cr_assert_eq(load_target_parse("wss://veil.example.org:8443/ws", &t), 0);
  cr_assert(t.tls);
  cr_assert_str_eq(t.host, "veil.example.org");
  cr_assert_eq(t.port, 8443);
  cr_assert_str_eq(t.path, "/ws");
  cr_assert_eq(load_target_parse("ws://[::1]:9000", &t), 0);
  cr_assert_str_eq(t.host, "::1");
  cr_assert_str_eq(t.path, "/");
  cr_assert_eq(load_target_parse("ws://127.0.0.1", &t), 0);
  cr_assert_eq(t.port, 80);
}

Test(load_target, rejects_userinfo_query_and_other_schemes) {
  load_target_t t;
  const char *bad[] = {"http://h/", "ws://user@h/", "ws://h/?x=1", "ws://h/#f", "ws://h:0/", "ws://h:65536/",
                       "ws://h:80x/", "ws://[::1/", "ws:///", "ws://h%20/", "ws://evil.com@127.0.0.1/"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(load_target_parse(bad[i], &t), VEIL_EINVAL, "accepted %s", bad[i]);
}

Test(load_target, same_url_requires_scheme_host_and_port) {
  load_target_t t;
  cr_assert_eq(load_target_parse("ws://127.0.0.1:8000/", &t), 0);
  cr_assert(load_target_same_url(&t, "ws://127.0.0.1:8000/other"));
  cr_assert_not(load_target_same_url(&t, "wss://127.0.0.1:8000/"));
  cr_assert_not(load_target_same_url(&t, "ws://127.0.0.2:8000/"));
  cr_assert_not(load_target_same_url(&t, "ws://127.0.0.1:8001/"));
}

Test(load_target, media_candidates_only_on_the_target_host) {
  load_target_t t;
  cr_assert_eq(load_target_parse("ws://127.0.0.1:8000/", &t), 0);
  cr_assert_eq(load_target_resolve(&t), 0);
  cr_assert(load_target_allows_ip(&t, "127.0.0.1"));
  cr_assert_not(load_target_allows_ip(&t, "127.0.0.2"));
  cr_assert_not(load_target_allows_ip(&t, "10.0.0.1"));
  cr_assert_not(load_target_allows_ip(&t, "::1"));
  cr_assert_not(load_target_allows_ip(&t, "not-an-ip"));
}

Test(load_target, ipv6_target_allows_only_itself) {
  load_target_t t;
  cr_assert_eq(load_target_parse("ws://[::1]:8000/", &t), 0);
  cr_assert_eq(load_target_resolve(&t), 0);
  cr_assert(load_target_allows_ip(&t, "::1"));
  cr_assert(load_target_allows_ip(&t, "0:0::1"));
  cr_assert_not(load_target_allows_ip(&t, "127.0.0.1"));
}

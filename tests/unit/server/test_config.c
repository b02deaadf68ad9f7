/* Unit tests: veil-server configuration precedence and validation (server/config.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "server/config.h"

static char path[64];

static void write_file(const char *text) {
  strcpy(path, "/tmp/veil-cfg-XXXXXX");
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

static void cleanup(void) {
  if (path[0])
    unlink(path);
  path[0] = '\0';
}
TestSuite(config, .fini = cleanup);

static int load(srv_config_t *c, int argc, char **argv, char **envp, char *err) {
  return srv_config_load(c, argc, argv, envp, err, 512);
}

Test(config, embedded_defaults_serve_a_local_deployment) {
  srv_config_t c;
  char err[512];
  char *env[] = {NULL};
  cr_assert_eq(load(&c, 0, NULL, env, err), 0);
  cr_assert_str_eq(c.host, "127.0.0.1");
  cr_assert_eq(c.port, 8443);
  cr_assert(c.tls);
  cr_assert_eq(c.udp_port, 7882);
  cr_assert_str_eq(c.token_alg, "ES256");
  cr_assert(!c.lobby);
}

Test(config, flags_beat_env_beat_file_beat_defaults) {
  write_file("# comment\nport = 1000\nmax_rooms = 11\nlog_level = \"warn\"\nlobby = true\n");
  srv_config_t c;
  char err[512];
  char cfgarg[80];
  snprintf(cfgarg, sizeof cfgarg, "--config=%s", path);
  char *env[] = {"VEIL_PORT=2000", "VEIL_MAX_ROOMS=12", "HOME=/root", NULL};
  char *argv[] = {cfgarg, "--port", "3000", NULL};
  cr_assert_eq(load(&c, 3, argv, env, err), 0, "%s", err);
  cr_assert_eq(c.port, 3000, "flag wins");
  cr_assert_eq(c.max_rooms, 12, "env beats file");
  cr_assert_str_eq(c.log_level, "warn", "file beats default");
  cr_assert(c.lobby);
  cr_assert_eq(c.max_participants_per_room, 100, "default kept");
}

Test(config, config_file_from_environment) {
  write_file("udp_port = 9999\n");
  srv_config_t c;
  char err[512], var[96];
  snprintf(var, sizeof var, "VEIL_CONFIG=%s", path);
  char *env[] = {var, NULL};
  cr_assert_eq(load(&c, 0, NULL, env, err), 0, "%s", err);
  cr_assert_eq(c.udp_port, 9999);
}

Test(config, boolean_flags_and_negations) {
  srv_config_t c;
  char err[512];
  char *env[] = {"VEIL_LOBBY=yes", NULL};
  char *argv[] = {"--no-tls", NULL};
  cr_assert_eq(load(&c, 1, argv, env, err), 0, "%s", err);
  cr_assert(!c.tls);
  cr_assert(c.lobby);
  char *argv2[] = {"--no-lobby", "--tls=true", NULL};
  cr_assert_eq(load(&c, 2, argv2, env, err), 0, "%s", err);
  cr_assert(!c.lobby);
  cr_assert(c.tls);
}

Test(config, invalid_flag_value_names_the_key_and_source) {
  srv_config_t c;
  char err[512];
  char *env[] = {NULL};
  char *argv[] = {"--port", "65536", NULL};
  cr_assert_eq(load(&c, 2, argv, env, err), VEIL_ESRV_CONFIG);
  cr_assert(strstr(err, "port") && strstr(err, "flag --port"), "err=%s", err);
  char *argv2[] = {"--max-rooms", "12abc", NULL};
  cr_assert_eq(load(&c, 2, argv2, env, err), VEIL_ESRV_CONFIG);
  cr_assert(strstr(err, "max_rooms"), "err=%s", err);
  char *argv3[] = {"--token-alg", "none", NULL};
  cr_assert_eq(load(&c, 2, argv3, env, err), VEIL_ESRV_CONFIG);
  cr_assert(strstr(err, "token_alg"), "err=%s", err);
  char *argv4[] = {"--port", NULL};
  cr_assert_eq(load(&c, 1, argv4, env, err), VEIL_ESRV_CONFIG);
  cr_assert(strstr(err, "missing value"), "err=%s", err);
}

Test(config, invalid_env_value_names_the_variable) {
  srv_config_t c;
  char err[512];
  char *env[] = {"VEIL_TLS=maybe", NULL};
  cr_assert_eq(load(&c, 0, NULL, env, err), VEIL_ESRV_CONFIG);
  cr_assert(strstr(err, "tls") && strstr(err, "VEIL_TLS"), "err=%s", err);
}

Test(config, unknown_keys_are_refused_everywhere) {
  srv_config_t c;
  char err[512];
  char *env[] = {NULL};
  char *argv[] = {"--prot", "1", NULL};
  cr_assert_eq(load(&c, 2, argv, env, err), VEIL_ESRV_CONFIG_KEY);
  cr_assert(strstr(err, "prot"), "err=%s", err);
  write_file("port = 1\nmax_romos = 3\n");
  char cfgarg[80];
  snprintf(cfgarg, sizeof cfgarg, "--config=%s", path);
  char *argv2[] = {cfgarg, NULL};
  cr_assert_eq(load(&c, 1, argv2, env, err), VEIL_ESRV_CONFIG_KEY);
  cr_assert(strstr(err, "max_romos") && strstr(err, "line 2"), "err=%s", err);
  char *argv3[] = {"positional", NULL};
  cr_assert_eq(load(&c, 1, argv3, env, err), VEIL_ESRV_CONFIG_KEY);
}

Test(config, malformed_file_lines_and_missing_file) {
  srv_config_t c;
  char err[512];
  char *env[] = {NULL};
  write_file("port 8443\n");
  char cfgarg[80];
  snprintf(cfgarg, sizeof cfgarg, "--config=%s", path);
  char *argv[] = {cfgarg, NULL};
  cr_assert_eq(load(&c, 1, argv, env, err), VEIL_ESRV_CONFIG_FILE);
  cr_assert(strstr(err, "line 1"), "err=%s", err);
  char *argv2[] = {"--config", "/nonexistent/veil.conf", NULL};
  cr_assert_eq(load(&c, 2, argv2, env, err), VEIL_ESRV_CONFIG_FILE);
  char *argv3[] = {"--port", "1", "--config", NULL};
  cr_assert_eq(load(&c, 3, argv3, env, err), VEIL_ESRV_CONFIG_FILE);
  cr_assert(strstr(err, "missing file name"), "err=%s", err);
}

Test(config, string_values_are_bounded) {
  srv_config_t c;
  char err[512], big[200];
  memset(big, 'h', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  char *env[] = {NULL};
  char *argv[] = {"--host", big, NULL};
  cr_assert_eq(load(&c, 2, argv, env, err), VEIL_ESRV_CONFIG);
  cr_assert(strstr(err, "host"), "err=%s", err);
}

Test(config, every_key_has_a_default_that_parses) {
  srv_config_t c;
  char err[512];
  srv_config_defaults(&c);
  for (size_t i = 0; i < srv_config_nkeys(); i++)
    cr_assert_eq(srv_config_set(&c, srv_config_key_name(i), srv_config_key_default(i), "test", err, sizeof err), 0,
                 "%s", srv_config_key_name(i));
}

/* SPDX-License-Identifier: MIT */
/*
 * mcsd - the MCS label daemon.  Parses flags and the config file, then
 * hands over to the server (server.h); reports a fatal error once.
 * Log lines go to stderr (journald picks them up under systemd).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_migrate.h"
#include "server.h"

static int verbose;

static void log_stderr(int priority, const char *msg, void *userdata)
{
	if (priority <= MCS_LOG_NOTICE + verbose)
		fprintf(stderr, "<%d>mcsd: %s\n", priority, msg);
}

static void usage(FILE *f)
{
	fputs("Usage: mcsd [OPTIONS]\n"
	      "  --socket PATH   listening socket (default "
	      "/run/mcsd/mcsd.sock)\n"
	      "  --db PATH       registry (default /var/lib/mcsd/registry.db)\n"
	      "  --registry URI  registry: sqlite:PATH, PATH, or a PostgreSQL\n"
	      "                  database postgresql://... or pg:CONNINFO\n"
	      "  --host-id ID    this host, for its leases in a shared\n"
	      "                  registry (default /etc/machine-id)\n"
	      "  --range RANGE   category range (default c0.c1023)\n"
	      "  --config FILE   read settings from FILE first\n"
	      "  --group NAME    group allowed to allocate (besides root)\n"
	      "  --foreground    stay in the foreground (the only mode)\n"
	      "  -n              check the configuration and exit\n"
	      "  -v              log more (repeat for debug)\n"
	      "  -h, --help      this help\n"
	      "       mcsd migrate --from sqlite:PATH --to postgresql://...\n"
	      "                  copy a registry into another, all or "
	      "nothing\n",
	      f);
}

static int set(char *dst, size_t size, const char *opt, const char *val)
{
	if (strlen(val) >= size || !*val) {
		fprintf(stderr, "mcsd: bad value for %s: '%s'\n", opt, val);
		return -1;
	}
	memcpy(dst, val, strlen(val) + 1);
	return 0;
}

/* mcsd migrate --from LOC --to LOC [--range R] [--host-id ID] */
static int migrate_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"range", required_argument, NULL, 'r'},
		{"host-id", required_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *from = NULL, *to = NULL, *range = MCS_DEFAULT_RANGE;
	const char *host = NULL;
	mcs_error err = {0};
	int c, k;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'r':
			range = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'h':
		default:
			fputs("Usage: mcsd migrate --from sqlite:PATH --to "
			      "postgresql://... [--range R] [--host-id ID]\n",
			      c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (!from || !to || optind < argc) {
		fputs("mcsd migrate: --from and --to are required\n", stderr);
		return 2;
	}
	k = store_migrate(from, to, range, host, stderr, &err);
	if (k < 0) {
		fprintf(stderr, "mcsd migrate: %s\n", err.msg);
		return 1;
	}
	printf("migrated %d owner(s) from %s\n", k, from);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"db", required_argument, NULL, 'd'},
		{"registry", required_argument, NULL, 'd'},
		{"host-id", required_argument, NULL, 'H'},
		{"range", required_argument, NULL, 'r'},
		{"config", required_argument, NULL, 'c'},
		{"group", required_argument, NULL, 'g'},
		{"foreground", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	mcsd_server_config cfg, flags;
	const char *config = NULL;
	bool check = false;
	mcs_error err = {0};
	int c, rc;

	if (argc > 1 && strcmp(argv[1], "migrate") == 0)
		return migrate_main(argc - 1, argv + 1);
	mcsd_server_config_init(&cfg);
	/* Flags override the file: remember them, apply after loading. */
	memset(&flags, 0, sizeof(flags));
	while ((c = getopt_long(argc, argv, "nvh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			rc = set(flags.socket_path, sizeof(flags.socket_path),
				 "--socket", optarg);
			break;
		case 'd':
			rc = set(flags.db_path, sizeof(flags.db_path), "--db",
				 optarg);
			break;
		case 'H':
			rc = set(flags.host_id, sizeof(flags.host_id),
				 "--host-id", optarg);
			break;
		case 'r':
			rc = set(flags.range, sizeof(flags.range), "--range",
				 optarg);
			break;
		case 'g':
			rc = set(flags.group, sizeof(flags.group), "--group",
				 optarg);
			break;
		case 'c':
			config = optarg;
			rc = 0;
			break;
		case 'f':
			rc = 0;
			break;
		case 'n':
			check = true;
			rc = 0;
			break;
		case 'v':
			verbose++;
			rc = 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (rc < 0)
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "mcsd: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}

	if (config && mcsd_server_config_load(&cfg, config, &err) < 0)
		goto fail;
	if (flags.socket_path[0])
		memcpy(cfg.socket_path, flags.socket_path,
		       sizeof(cfg.socket_path));
	if (flags.db_path[0])
		memcpy(cfg.db_path, flags.db_path, sizeof(cfg.db_path));
	if (flags.host_id[0])
		memcpy(cfg.host_id, flags.host_id, sizeof(cfg.host_id));
	if (flags.range[0])
		memcpy(cfg.range, flags.range, sizeof(cfg.range));
	if (flags.group[0])
		memcpy(cfg.group, flags.group, sizeof(cfg.group));
	if (mcsd_server_config_check(&cfg, &err) < 0)
		goto fail;
	if (check) {
		printf("configuration ok: socket %s, db %s, range %s, group "
		       "%s\n",
		       cfg.socket_path, cfg.db_path, cfg.range,
		       cfg.group[0] ? cfg.group : "(none)");
		return 0;
	}

	/* The registry, its -wal and -shm hold every owner name: readable
	 * by root alone, whatever umask mcsd was started with (sqlite
	 * creates -wal and -shm with the database's mode). */
	umask(0077);
	mcs_set_log_callback(log_stderr, NULL);
	mcs_set_log_level(MCS_LOG_NOTICE + verbose);
	mcsd_server *s = NULL;
	if (mcsd_server_new(&cfg, &s, &err) < 0)
		goto fail;
	rc = mcsd_server_run(s, &err);
	mcsd_server_free(s);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "mcsd: %s\n", err.msg);
	return 1;
}

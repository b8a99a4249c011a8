/* SPDX-License-Identifier: MIT */
/* store.c - module store verbs (install/remove/list/bool): next commit. */
#include "mcs-policy.h"

static int not_yet(void)
{
	fputs("mcs-policy: the module store verbs are not built yet\n", stderr);
	return EXIT_ERROR;
}

int cmd_install(int argc, char **argv) { return not_yet(); }
int cmd_remove(int argc, char **argv) { return not_yet(); }
int cmd_list(int argc, char **argv) { return not_yet(); }
int cmd_bool(int argc, char **argv) { return not_yet(); }

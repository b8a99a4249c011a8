/* A libmcs client built against the installed tree only (headers, mcs.pc,
 * libmcs.so): parses a level and prints its canonical form. */
#include <stdio.h>

#include <mcs/label.h>

int main(int argc, char **argv)
{
	mcs_level l;
	mcs_error err = {0};
	char buf[256];

	if (argc != 2 || mcs_level_parse(argv[1], &l, &err) < 0 ||
	    mcs_level_format(&l, buf, sizeof(buf)) < 0) {
		fprintf(stderr, "client: %s\n", err.msg);
		return 1;
	}
	puts(buf);
	return 0;
}

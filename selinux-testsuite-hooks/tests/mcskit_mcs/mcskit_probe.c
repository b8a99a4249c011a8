/*
 * mcskit_probe: one access attempt, answered by the kernel, for the mcskit_*
 * tests.  With -c CONTEXT it first sets its exec context (setexeccon) and
 * re-executes itself, so the attempt runs in CONTEXT (the file must be an
 * entrypoint of CONTEXT's type).  Exit status: 0 when the access succeeded,
 * the errno (EACCES = 13) when it failed, 125 on bad usage or a setup error.
 *
 *   mcskit_probe [-c CONTEXT] read FILE | write FILE | signal PID |
 *                socket tcp|udp | bind tcp|udp PORT | connect PORT |
 *                checkctx CONTEXT | id | status SOCKET
 *
 * status: one io.mcskit.Labels.Status call to mcsd at SOCKET; 0 when
 * answered, EACCES when answered PermissionDenied.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <selinux/selinux.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define BAD 125

static int fail(void)
{
	int e = errno;

	return e > 0 && e < BAD ? e : BAD;
}

static int sock_type(const char *proto)
{
	if (strcmp(proto, "tcp") == 0)
		return SOCK_STREAM;
	if (strcmp(proto, "udp") == 0)
		return SOCK_DGRAM;
	return -1;
}

static int do_net(const char *op, const char *proto, const char *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int type = sock_type(proto);
	int fd, r;

	if (type < 0)
		return BAD;
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail();
	if (strcmp(op, "socket") == 0) {
		close(fd);
		return 0;
	}
	if (!port)
		return BAD;
	sin.sin_port = htons((unsigned short)atoi(port));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (strcmp(op, "bind") == 0)
		r = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	else
		r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	r = r < 0 ? fail() : 0;
	close(fd);
	return r;
}

static int do_file(const char *op, const char *path)
{
	int write_mode = strcmp(op, "write") == 0;
	char c = 'x';
	ssize_t n;
	int fd, r = 0;

	fd = open(path,
		  (write_mode ? O_WRONLY | O_APPEND : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return fail();
	n = write_mode ? write(fd, &c, 1) : read(fd, &c, 1);
	if (n < 0)
		r = fail();
	close(fd);
	return r;
}

static int do_status(const char *path)
{
	static const char call[] = "{\"method\":\"io.mcskit.Labels.Status\"}";
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char reply[4096];
	size_t n = 0;
	int fd, r = BAD;

	if (strlen(path) >= sizeof(sa.sun_path))
		return BAD;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, call, sizeof(call)) != (ssize_t)sizeof(call)) {
		r = fail();
		close(fd);
		return r;
	}
	while (n < sizeof(reply) - 1) {
		ssize_t k = read(fd, reply + n, 1);
		if (k <= 0 || reply[n] == '\0')
			break;
		n++;
	}
	reply[n] = '\0';
	close(fd);
	printf("%s\n", reply);
	if (strstr(reply, "PermissionDenied"))
		return EACCES;
	if (strstr(reply, "\"parameters\"") && !strstr(reply, "\"error\""))
		r = 0;
	return r;
}

int main(int argc, char **argv)
{
	const char *op;

	if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
		if (setexeccon(argv[2]) < 0) {
			perror("setexeccon");
			return BAD;
		}
		argv[2] = argv[0];
		execv("/proc/self/exe", argv + 2);
		return fail();
	}
	if (argc < 2)
		return BAD;
	op = argv[1];
	if (strcmp(op, "id") == 0) {
		char *con = NULL;

		if (getcon(&con) < 0)
			return fail();
		printf("%s\n", con);
		freecon(con);
		return 0;
	}
	if (argc < 3)
		return BAD;
	if (strcmp(op, "read") == 0 || strcmp(op, "write") == 0)
		return do_file(op, argv[2]);
	if (strcmp(op, "signal") == 0)
		return kill((pid_t)atoi(argv[2]), SIGCONT) < 0 ? fail() : 0;
	if (strcmp(op, "socket") == 0 || strcmp(op, "bind") == 0)
		return do_net(op, argv[2], argc > 3 ? argv[3] : NULL);
	if (strcmp(op, "connect") == 0)
		return do_net(op, "tcp", argv[2]);
	if (strcmp(op, "status") == 0)
		return do_status(argv[2]);
	if (strcmp(op, "checkctx") == 0)
		return security_check_context(argv[2]) < 0 ? fail() : 0;
	return BAD;
}

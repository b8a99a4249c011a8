# mcskit_common: shared setup for the tests/mcskit_*/test scripts: skip unless
# the kernel enforces SELinux, run mcskit_probe in a context, read the AVC log.
package mcskit_common;
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use Exporter qw(import);
use POSIX qw(:sys_wait_h);
our @EXPORT = qw(enforcing probe probe_in avc_since avc_mark workdir label helper
    pkg_installed pkg_units pkg_mcsd);

my $helper_src = dirname(abs_path(__FILE__)) . '/mcskit_mcs/mcskit_probe';
my $work;
my $helper;

sub enforcing {
    open(my $fh, '<', '/sys/fs/selinux/enforce') or return 0;
    my $v = <$fh>;
    return defined($v) && $v =~ /^1/;
}

# A work directory reachable from container domains: /srv/mcskit-PID, with a
# bin_t copy of the helper (an entrypoint of the test domains).
sub workdir {
    return $work if $work;
    $work = "/srv/mcskit-$$";
    mkdir $work or die "mkdir $work: $!";
    system('chcon', '-t', 'svirt_image_t', '-l', 's0', $work) == 0 or die "chcon $work";
    $helper = "$work/mcskit_probe";
    system('cp', $helper_src, $helper) == 0 or die "cp $helper_src";
    system('chcon', '-t', 'bin_t', '-l', 's0', $helper) == 0 or die "chcon $helper";
    return $work;
}

sub helper { workdir(); return $helper; }

END { system('rm', '-rf', $work) if $work && -d $work; }

# label PATH TYPE LEVEL
sub label {
    my ($path, $type, $level) = @_;
    return system('chcon', '-t', $type, '-l', $level, $path) == 0;
}

# probe_in(CONTEXT, OP, ARGS...): exit status of the attempt (0 or errno)
sub probe_in {
    my ($ctx, @args) = @_;
    my $r = system("'" . helper() . "' -c '$ctx' " . join(' ', map { "'$_'" } @args) . ' </dev/null >/dev/null 2>&1');
    return $r == -1 ? 125 : ($r & 127) ? 128 + ($r & 127) : $r >> 8;
}

# probe(TYPE, LEVEL, OP, ARGS...)
sub probe {
    my ($type, $level, @args) = @_;
    return probe_in("unconfined_u:unconfined_r:$type:$level", @args);
}

sub avc_mark { my @l = `dmesg`; return scalar(@l); }

# AVC denials logged since avc_mark()
sub avc_since {
    my ($mark) = @_;
    my @l = `dmesg`;
    return grep { /avc:\s+denied/ } @l[$mark .. $#l];
}

# The mcskit package of `make deb`, installed in the image (vm/image.sh).
sub pkg_installed {
    return `dpkg-query -W -f='\${db:Status-Status}' mcskit 2>/dev/null` eq 'installed';
}

# (ExecStart= of the installed mcsd.service, ListenStream= of mcsd.socket)
sub pkg_units {
    my ($exec) = `sed -n 's/^ExecStart=//p' /lib/systemd/system/mcsd.service` =~ /^(.+)$/m;
    my ($sock) = `sed -n 's/^ListenStream=//p' /lib/systemd/system/mcsd.socket` =~ /^(.+)$/m;
    return ($exec, $sock);
}

# pkg_mcsd(): start the installed mcsd as `systemctl start mcsd.socket`
# would, in mcsd_t; returns its pid (0 when it did not listen) and socket.
# The VM has no systemd as PID 1 (vm/guest-init), so what stands in for
# it is the command line of mcsd.service's ExecStart= with mcsd.socket's
# ListenStream= path, started through the init-script transition (runcon
# ...:initrc_t runs a shell that execs it; initrc_t -> mcsd_t on
# mcsd_exec_t is init_daemon_domain's rule, the same one systemd's init_t
# uses).  mcsd then creates the socket itself (no socket activation) at
# the unit's path.  The pid is mcsd's own (both runcon and sh exec).
sub pkg_mcsd {
    my ($exec, $sock) = pkg_units();
    return (0, $sock) unless $exec && $sock;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', '/dev/null');
        open(STDERR, '>&', \*STDOUT);
        exec('runcon', 'system_u:system_r:initrc_t:s0-s0:c0.c1023', '/bin/sh', '-c',
            "exec </dev/null >/dev/null 2>&1; exec $exec --socket $sock -v");
        exit 125;
    }
    for (1 .. 400) {
        last if -S $sock && system("/usr/bin/mcsctl --socket $sock status >/dev/null 2>&1") == 0;
        if (waitpid($pid, WNOHANG) == $pid) { return (0, $sock); }
        select(undef, undef, undef, 0.05);
    }
    return ($pid, $sock);
}

1;

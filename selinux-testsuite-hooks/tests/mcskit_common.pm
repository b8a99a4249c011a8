# mcskit_common: shared setup for the tests/mcskit_*/test scripts: skip unless
# the kernel enforces SELinux, run mcskit_probe in a context, read the AVC log.
package mcskit_common;
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use Exporter qw(import);
our @EXPORT = qw(enforcing probe probe_in avc_since avc_mark workdir label helper);

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

1;

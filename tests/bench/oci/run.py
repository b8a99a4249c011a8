#!/usr/bin/env python3
"""make bench-oci: mcs-oci's overhead on `create` over calling the runtime
directly, in the same run, interleaved.  The runtime is /bin/true (a stub
that does nothing, so only mcs-oci's own cost shows); the bundle is a
podman-sized config.json with an engine-chosen level (adopt: one Allocate
to a real mcsd, durable before it answers).  Each create gets a fresh
level and container id; the deletes run between measurements, untimed.
Prints p50/p99 of both, the overhead and the ratio; target p50 overhead
under 2 ms.  In the same run, the two floors under that overhead
(floor.c): a wrapper that only execs the runtime, and one that makes the
single durable registration mcs-oci makes and then execs; mcs-oci's own
cost is what it adds above the second."""
import json, os, resource, subprocess, sys, tempfile, time

O = os.environ.get("O", "build")
N = int(os.environ.get("N", "300"))
OCI = os.path.abspath(f"{O}/bin/mcs-oci")
MCSD = f"{O}/bin/mcsd"
MCSCTL = f"{O}/bin/mcsctl"
STUB = "/bin/true"
FLOOR = os.path.abspath(f"{O}/tests/bench/oci/floor")

d = tempfile.mkdtemp(prefix="mcs-oci-bench.", dir="/var/tmp")
sock = f"{d}/s"
mcsd = subprocess.Popen([MCSD, "--socket", sock, "--db", f"{d}/r.db"],
                        stderr=open(f"{d}/mcsd.log", "w"))
for _ in range(200):
    if subprocess.run([MCSCTL, "--socket", sock, "status"],
                      capture_output=True).returncode == 0:
        break
    time.sleep(0.05)

env = dict(os.environ, MCS_OCI_RUNTIME=STUB, MCSD_SOCKET=sock,
           MCS_OCI_CONFIG=f"{d}/oci.conf")
open(f"{d}/oci.conf", "w").write(f"state_roots = {d}/state\nlock_dir = {d}/locks\n")
bundle = f"{d}/b"
os.makedirs(f"{bundle}/rootfs")
# a config.json the size of podman's: mounts, env, capabilities, masks
cfg = {
    "ociVersion": "1.0.2-dev",
    "process": {"args": ["sleep", "100000"], "cwd": "/", "user": {"uid": 0, "gid": 0},
                "env": [f"VAR{i}=value{i}" for i in range(20)],
                "capabilities": {k: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
                                     "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID",
                                     "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"]
                                 for k in ("bounding", "effective", "permitted")},
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576}]},
    "root": {"path": f"{bundle}/rootfs"},
    "hostname": "bench",
    "mounts": [{"destination": f"/m{i}", "type": "bind", "source": f"/run/x/{i}",
                "options": ["bind", "rprivate"]} for i in range(12)],
    "annotations": {"io.container.manager": "libpod",
                    "io.kubernetes.cri-o.SandboxID": "",
                    "io.podman.annotations.privileged": "FALSE"},
    "linux": {"namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "cgroup")],
              "maskedPaths": [f"/proc/m{i}" for i in range(15)],
              "readonlyPaths": [f"/proc/r{i}" for i in range(8)],
              "seccomp": {"defaultAction": "SCMP_ACT_ERRNO",
                          "syscalls": [{"names": [f"sys{i}" for i in range(300)],
                                        "action": "SCMP_ACT_ALLOW"}]}},
}

def level(i):
    x, y = divmod(i, 900)
    return f"s0:c{x + 1},c{y + 100}"

def cpu():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime

# wall time (ms) of one call; its CPU time (user + system of the process,
# the runtime it execs included) goes to cpus: on a loaded host the wall
# time mostly measures the wait for a CPU, the CPU time does not
def run(argv, cpus, e=None):
    c = cpu()
    t = time.perf_counter_ns()
    r = subprocess.run(argv, env=e, stdout=subprocess.DEVNULL)
    dt = time.perf_counter_ns() - t
    cpus.append((cpu() - c) * 1e3)
    if r.returncode != 0:
        sys.exit(f"bench-oci: {argv} failed ({r.returncode})")
    return dt / 1e6

direct, wrapped, dcpu, wcpu = [], [], [], []
fexec, freg, fecpu, frcpu = [], [], [], []
for i in range(N):
    c = dict(cfg)
    c["process"] = dict(cfg["process"], selinuxLabel=f"system_u:system_r:container_t:{level(i)}")
    c["linux"] = dict(cfg["linux"], mountLabel=f"system_u:object_r:container_file_t:{level(i)}")
    json.dump(c, open(f"{bundle}/config.json", "w"), indent=2)
    cid = f"{i:064x}"
    args = ["create", "--bundle", bundle, "--pid-file", f"{d}/pid", cid]
    direct.append(run([STUB] + args, dcpu))
    fexec.append(run([FLOOR, "exec", STUB] + args, fecpu))
    freg.append(run([FLOOR, "register", sock, level(i), f"oci:{cid}", STUB] + args, frcpu))
    subprocess.run([MCSCTL, "--socket", sock, "release", f"oci:{cid}"], stdout=subprocess.DEVNULL)
    wrapped.append(run([OCI] + args, wcpu, env))
    subprocess.run([MCSCTL, "--socket", sock, "release", f"oci:{cid}"], stdout=subprocess.DEVNULL)

mcsd.terminate()
mcsd.wait()
subprocess.run(["rm", "-rf", d])

def pct(v, p):
    s = sorted(v)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]

size = len(json.dumps(c, indent=2))
d50, d99, w50, w99 = pct(direct, 50), pct(direct, 99), pct(wrapped, 50), pct(wrapped, 99)
print(f"bench-oci: create, {N} containers, config.json {size} bytes, runtime {STUB}, adopt via a real mcsd")
print(f"  runtime directly     p50 {d50:6.2f} ms   p99 {d99:6.2f} ms")
print(f"  floor: exec only     p50 {pct(fexec, 50):6.2f} ms   p99 {pct(fexec, 99):6.2f} ms")
print(f"  floor: register+exec p50 {pct(freg, 50):6.2f} ms   p99 {pct(freg, 99):6.2f} ms")
print(f"  through mcs-oci      p50 {w50:6.2f} ms   p99 {w99:6.2f} ms")
print(f"  mcs-oci overhead     p50 {w50 - d50:6.2f} ms   p99 {w99 - d99:6.2f} ms   ratio p50 {w50 / d50:.2f}x"
      f"   (target p50 < 2 ms: {'met' if w50 - d50 < 2 else 'MISSED'})")
f50 = pct(freg, 50)
print(f"  floor overhead       p50 {f50 - d50:6.2f} ms   (exec {pct(fexec, 50) - d50:.2f} ms + durable"
      f" registration {f50 - pct(fexec, 50):.2f} ms); mcs-oci over the floor p50 {w50 - f50:.2f} ms,"
      f" ratio {w50 / f50:.2f}x")
c50, c99, m50, m99 = pct(dcpu, 50), pct(dcpu, 99), pct(wcpu, 50), pct(wcpu, 99)
print(f"  CPU time: directly p50 {c50:.2f} ms p99 {c99:.2f} ms; through mcs-oci p50 {m50:.2f} ms p99 {m99:.2f} ms;"
      f" overhead p50 {m50 - c50:.2f} ms; floors p50 exec {pct(fecpu, 50):.2f} ms,"
      f" register+exec {pct(frcpu, 50):.2f} ms")
print(f"  load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

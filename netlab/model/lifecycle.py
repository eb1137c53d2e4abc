"""A container's life: create and start (``docker run``), stop, start again, remove.

``docker run`` on the default bridge does, in order (each step is a real kernel operation,
shown by ``netlab.kernel.trace``):

1. ``ip netns add`` a namespace for the container (Docker: ``/var/run/docker/netns/<id>``),
   with ``lo`` up and IPv6 off for the interfaces to come;
2. ``ip link add vethXXXXXXX master docker0 up type veth peer name eth0 netns <container>``:
   the pair is born with one end in each namespace, the host end a port of the bridge; the
   container end gets Docker's ``02:42`` + IPv4 MAC;
3. inside the container: the address (the lowest free one of 172.17.0.0/16), ``eth0`` up,
   ``default via 172.17.0.1``;
4. its process is started in the namespace with its own hostname (the short ID) and, in its
   own mount namespace, its ``/etc/hosts`` and ``/etc/resolv.conf`` bind-mounted over /etc.

Steps 2 and 3 are the network driver's ``join`` (:mod:`netlab.model.drivers`): an overlay
endpoint is a veth into its sandbox's ``br0``, a macvlan endpoint a child of the host's
``eth0``; this module only knows that each endpoint has a driver.

If any step fails, what the earlier steps made is removed again before the error is raised.
A namespace that an interrupted run left behind (killed before it wrote its record) is removed
by the next run, which gets the same name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import replace
from typing import TYPE_CHECKING

from netlab.errors import (
    Conflict,
    InvalidArgument,
    LabBroken,
    NetlabError,
    NoSuchContainer,
    NoSuchLab,
    PrivilegeError,
    StartFailed,
    ToolMissing,
)
from netlab.kernel import batch, containers, netns, proc, rtnl, soon, trace, wait
from netlab.model import (
    drivers,
    embedded_dns,
    ids,
    images,
    logs,
    machines,
    networks,
    pausing,
    proxies,
    sweep,
    topology,
)
from netlab.model.ports import PortMapping, allocate
from netlab.model.records import NO_CONFIG, ZERO_TIME, ContainerRec, Endpoint, EndpointConfig
from netlab.model.state import removed_message
from netlab.model.timefmt import now_rfc3339, rfc3339

if TYPE_CHECKING:
    from netlab.model.host import Host, Network
    from netlab.model.images import Image

KILLED_EXIT_CODE = 137  # 128 + SIGKILL, what `docker stop` leaves for `sleep` as PID 1
STOP_TIMEOUT = 10.0  # seconds: `docker stop`'s default grace period


def create_container(
    host: Host,
    img: Image,
    image_ref: str,
    argv: tuple[str, ...],
    real: list[str],
    *,
    name: str | None,
    net: Network,
    hostname: str | None,
    tty: bool,
    interactive: bool,
    publish: Sequence[PortMapping] = (),
    more_networks: Sequence[str] = (),
    env: Sequence[str] = (),
    log_opts: Mapping[str, str] | None = None,
    stdin: int | None = None,
    attach: bool = False,
    extra_hosts: Sequence[str] = (),
    dns: Sequence[str] = (),
    keep_created: bool = True,
    endpoint_config: EndpointConfig = NO_CONFIG,
) -> str:
    """Create and start a container; return its ID.

    A request that cannot be created (a bad name, an unknown network) leaves nothing; one
    that is created but cannot start (a port taken, a command not found) stays as a
    ``Created`` container, as on Docker, and :class:`StartFailed` says which; an
    interruption (Ctrl-C) leaves nothing at all (nor does a failure with ``keep_created``
    false: a swarm task that cannot start is not kept). ``more_networks`` (names or IDs) are
    attached after ``net``, as eth1, eth2, ...; ``stdin``, a file descriptor, is what its
    command reads (``docker run -i``); ``attach`` says a terminal waits for its output (a
    ``docker run`` without ``-d``: ``Config.AttachStdout``); ``endpoint_config`` is what the
    user asked for on ``net`` (``--ip``, ``--mac-address``, ``--network-alias``).
    """
    lab = host.lab
    store = lab.store
    with store.locked():
        if name is not None:
            host.check_name_free(name)
        seq = store.next_counter("container")
        cid = ids.object_id(lab.name, "container", seq)
        short = ids.short_id(cid)
        if name is None:
            name = host.random_name(seq)
        own_ns = drivers.of(net.rec).own_namespace
        cns = topology.ns_name(lab.name, short) if own_ns else host.ns
        # The namespace is made on the kernel thread while this one does the bookkeeping
        # (the record, addresses, ports); whatever fails from here on removes it again.
        made = soon(lambda: _new_namespace(cns)) if own_ns else None
        try:
            display = img.display_command(argv)
            eps = {net.name: Endpoint(net.id, config=endpoint_config)}
            for ref in more_networks:  # (in order: they become eth1, eth2, ...)
                extra = host.network(ref)
                eps[extra.name] = Endpoint(extra.id)
            rec = ContainerRec(
                id=cid,
                seq=seq,
                name=name,
                host=host.name,
                image=image_ref,
                image_id=img.image_id,
                path=display[0],
                args=tuple(display[1:]),
                created=now_rfc3339(),
                hostname=hostname or (short if own_ns else host.name),
                netns=cns,
                own_netns=own_ns,
                real_argv=tuple(real),
                networks=eps,
                network_mode=net.name,
                tty=tty,
                open_stdin=interactive,
                attached=attach,
                extra_hosts=tuple(extra_hosts),
                dns=tuple(dns),
                exposed_ports=tuple(img.exposed),
                port_specs=tuple(publish),
                env=tuple(env),
                log_opts=dict(log_opts or {}),
            )
            store.save_container(rec)
            _launch(host, rec, made, stdin)
        except BaseException as exc:
            if made is not None:  # (it may have failed before _launch waited for it)
                _drop_new_namespace(cns, made)
            if keep_created and _stays_created(exc) and cid in store.containers():
                raise StartFailed(cid, exc) from exc  # (created, not started: it stays)
            store.drop_container(cid)
            raise
    return cid


def _stays_created(exc: BaseException) -> bool:
    """True for a failure to start that leaves the container ``Created``, as on Docker (a
    port taken, a command not found, the kernel's refusal); not for an interruption or a
    machine or lab that is not fit to run anything (then nothing of it stays)."""
    return isinstance(exc, Exception) and not isinstance(
        exc, (LabBroken, NoSuchLab, ToolMissing, PrivilegeError)
    )


def _attach_endpoints(host: Host, rec: ContainerRec) -> ContainerRec:
    """Give each of the container's networks a fresh endpoint (at create and at start)."""
    eps = {}
    for i, (net_name, old) in enumerate(rec.networks.items()):
        net = host.network(old.network_id)
        drv = drivers.of(net.rec)
        seq = host.lab.store.next_counter("endpoint") if drv.has_endpoints else 0
        eps[net_name] = drv.endpoint(host, net.rec, seq, f"eth{i}", old.config)
    return replace(rec, networks=eps)


def _launch(
    host: Host,
    created: ContainerRec,
    made: Future[bool] | None = None,
    stdin: int | None = None,
) -> ContainerRec:
    """Attach, wire and start a created or exited container (under the lab's lock); return
    its record as stored, running.

    ``made``: the creation of its namespace, already under way (see create_container);
    ``stdin``: a file descriptor the command reads as its stdin (``docker run -i``).
    """
    _check_command(created)
    rec = _attach_endpoints(host, _allocate_ports(host, created))
    if rec.started_at != ZERO_TIME:  # an earlier run's exit code goes
        with contextlib.suppress(FileNotFoundError):
            os.unlink(host.lab.store.path("containers", rec.id + ".exit"))
    starting: containers.Starting | None = None
    try:
        if not netns.exists(host.ns):
            raise LabBroken(
                f"the namespace of host {host.name!r} ({host.ns}) is gone; run "
                f"`netlab clean {host.lab.name}` and build the lab again"
            )
        if rec.own_netns and made is None:
            made = soon(lambda: _new_namespace(rec.netns))
        # The kernel thread goes on, in order, from the namespace to the container's files
        # and its network, while this thread starts the init's birth as soon as the files
        # are there. (The trace keeps a fixed order: all but the last line, the process,
        # come from the kernel thread.)
        resolv = _resolv(host, rec)  # (the store is read here, not on the kernel thread)
        files = soon(lambda: _container_files(host, rec, made, resolv))
        plan = _wiring(host, rec)  # (read here too: the kernel thread only builds)
        wired = soon(lambda: _wire(host, rec, plan) if _ours(made) else None)
        starting = _start_init(host, rec, wait(files), stdin)
        wait(wired)
        if embedded_dns.uses(host, rec):  # (its names known before its first query)
            embedded_dns.refresh(host.lab, starting=rec)
            embedded_dns.attach(host, rec)
        # A server image (nginx) is ready when it listens: docker run returns then, so a
        # request right after it gets an answer. Others go on while their init starts.
        serves = [p for p in rec.exposed_ports if images.serves_http(rec.real_argv)]
        pid, pid_start = starting.go(wait=bool(serves))
        running = replace(
            rec,
            pid=pid,
            pid_start=pid_start,
            state="running",
            exit_code=0,
            started_at=now_rfc3339(),
            finished_at=ZERO_TIME,
        )
        if serves:
            proc.wait_listening(
                rec.netns, [("0.0.0.0", int(p.split("/")[0]), "tcp") for p in serves]
            )
        host.lab.store.save(container=running)
        if rec.ports and not host.lab.store.lab_record.userland_proxy:
            _hairpin(host, rec)
        networks.endpoints_changed(host, list(rec.networks), ports=bool(rec.ports))
        if rec.ports and host.lab.store.lab_record.userland_proxy:
            running = _start_proxies(host, running)
        if starting.failed_early():
            starting.wait_ready(0)  # raises with the init's own words
        return running
    except BaseException:
        # Whatever failed (or Ctrl-C), nothing half-built stays: the process, its network,
        # its port rules and its peers' entries all go again.
        if starting is not None:
            starting.abort()
        _stop_proxies(host, rec.id)
        _teardown(host, rec)
        host.lab.store.save(container=replace(created, state="created", ports=()))
        with contextlib.suppress(Exception):
            networks.endpoints_changed(host, list(rec.networks), ports=bool(rec.port_specs))
        raise


def _check_command(rec: ContainerRec) -> None:
    """Docker's start error for a command that does not exist (``docker run`` exits 127)."""
    if shutil.which(rec.real_argv[0]) is None:
        raise InvalidArgument(
            "failed to create task for container: failed to create shim task: OCI runtime "
            "create failed: runc create failed: unable to start container process: error "
            f'during container init: exec: "{rec.real_argv[0]}": executable file not found in '
            "$PATH: unknown"
        )


def _allocate_ports(host: Host, rec: ContainerRec) -> ContainerRec:
    """Host ports for the container's ``-p`` requests; Docker's error if one is taken."""

    taken = [
        m
        for r in host.lab.store.containers().values()
        if r.host == host.name and r.state == "running" and r.id != rec.id
        for m in r.ports
    ]
    wanted = list(rec.port_specs)
    first = host.network(networks.publishing_endpoint(host, rec).network_id)
    if first.rec.internal:
        wanted = []  # Docker publishes nothing for a container on an --internal network
    eid = ids.object_id(host.lab.name, "endpoint", host.lab.store.peek_counter("endpoint") + 1)
    return replace(rec, ports=tuple(allocate(wanted, taken, f"{rec.name} ({eid})")))


def _start_proxies(host: Host, rec: ContainerRec) -> ContainerRec:
    """Start the docker-proxy processes of a container's published ports; its record with
    them (stored). A port that the host cannot bind fails with Docker's words."""
    first = networks.publishing_endpoint(host, rec)
    try:
        started = proxies.start(host, rec.ports, first.ip)
    except proxies.ProxyError as exc:
        raise Conflict(
            "failed to set up container networking: driver failed programming external "
            f"connectivity on endpoint {rec.name} ({first.endpoint_id}): {exc}"
        ) from None
    rec = replace(rec, proxies=tuple(started))
    host.lab.store.save(container=rec)
    return rec


def _hairpin(host: Host, rec: ContainerRec) -> None:
    """Hairpin mode on the bridge port of a container with published ports (the kernel
    carries its calls to its own published port back out of the port they came in by)."""
    first = networks.publishing_endpoint(host, rec)
    if first.veth:
        rtnl.set_bridge_port(host.ns, first.veth, hairpin=True)


def record(host: Host, cid: str) -> ContainerRec:
    """A container's record as stored now, or Docker's error for one that is gone."""
    rec = host.lab.store.containers().get(cid)
    if rec is None:
        if not host.lab.store.exists():
            raise NoSuchLab(removed_message(host.lab.name))
        raise NoSuchContainer(cid)
    return rec


def start_container(host: Host, cid: str) -> None:
    """``docker start``: bring an exited container back (new endpoints, same identity)."""
    with host.lab.store.locked():
        reconcile(host)
        rec = record(host, cid)
        if rec.paused:  # moby daemon/start.go validateState
            raise Conflict("cannot start a paused container, try unpause instead")
        if rec.state == "running":
            return
        _launch(host, rec)


def stop_containers(
    host: Host, cids: Sequence[str], *, timeout: float = STOP_TIMEOUT, sig: int | None = None
) -> None:
    """``docker stop [-t T] [-s SIG] A B ...``: as Docker stops a container.

    ``sig`` (by default the image's stop signal: SIGTERM, nginx's SIGQUIT) goes to each
    one's PID 1, then they get ``timeout`` seconds to end
    (together, and outside the lab's lock: other commands go on meanwhile), then SIGKILL. A
    PID 1 with no handler for the signal ignores it (the kernel shields a PID namespace's
    init), so ``sleep infinity`` takes the whole grace period and ends ``Exited (137)``; a
    shell that traps SIGTERM ends with its own exit code. A negative ``timeout`` waits for
    ever. Their networks are released.
    """
    store = host.lab.store
    with store.locked():
        reconcile(host)  # one that ended by itself keeps its own exit code
        live = [r for r in (record(host, cid) for cid in cids) if r.state == "running"]
        for r in live:
            pid1 = containers.init_pid(r.pid, r.pid_start)
            stop_sig = sig if sig is not None else _stop_signal(r)
            if pid1 is not None:
                proc.signal_pid(pid1, stop_sig)
            if r.paused and pausing.resumes_after(r, stop_sig):  # (thawed, it acts on it)
                store.save_container(pausing.release(r))
    deadline = None if timeout < 0 else time.monotonic() + timeout
    while any(proc.alive(r.pid, r.pid_start) for r in live):
        if deadline is not None and time.monotonic() >= deadline:
            break
        time.sleep(0.01)
    with store.locked():
        for r in live:
            now = store.containers().get(r.id)
            if now is None or now.state != "running" or now.pid != r.pid:
                continue  # (removed, or stopped and started again, meanwhile)
            if proc.alive(r.pid, r.pid_start):
                _kill(now)
                _finish(host, now, KILLED_EXIT_CODE)
        reconcile(host)  # the ones that ended within the grace period: their exit codes


def stop_container(host: Host, cid: str, *, timeout: float = STOP_TIMEOUT) -> None:
    """``docker stop``: see :func:`stop_containers`."""
    stop_containers(host, [cid], timeout=timeout)


def kill_container(host: Host, cid: str, sig: int = signal.SIGKILL) -> None:
    """``docker kill [-s SIG]``: send ``sig`` to the container's PID 1; SIGKILL (the default)
    ends it at once (``Exited (137)``), another signal is only sent, as on Docker."""
    with host.lab.store.locked():
        reconcile(host)
        rec = record(host, cid)
        if rec.state != "running":
            raise Conflict(f"container {rec.id} is not running")
        if sig == signal.SIGKILL:
            _kill(rec)
            _finish(host, rec, KILLED_EXIT_CODE)
            return
        pid1 = containers.init_pid(rec.pid, rec.pid_start)
        if pid1 is not None:
            proc.signal_pid(pid1, sig)
        if rec.paused and pausing.resumes_after(rec, sig):  # moby daemon/kill.go
            host.lab.store.save_container(pausing.release(rec))


def _stop_signal(rec: ContainerRec) -> int:
    """The signal ``docker stop`` sends: the image's StopSignal, else SIGTERM."""
    try:
        name = images.lookup(rec.image).stop_signal
    except Exception:  # (an image netlab no longer knows: Docker's default)
        name = ""
    return parse_signal(name) if name else signal.SIGTERM


def parse_signal(sig: int | str) -> int:
    """A signal as Docker reads ``-s``: a number, or a name with or without ``SIG``."""
    if isinstance(sig, int) or sig.isdigit():
        n = int(sig)
        if n == 0 or n >= signal.NSIG:
            raise InvalidArgument(f"invalid signal: {sig}")
        return n
    name = sig.upper().removeprefix("SIG")
    try:
        return int(signal.Signals["SIG" + name])
    except KeyError:
        raise InvalidArgument(f"invalid signal: {sig}") from None


def _kill(rec: ContainerRec) -> None:
    """SIGKILL a running container (see :func:`_kill_many`)."""
    _kill_many([rec])


def _kill_many(recs: Sequence[ContainerRec]) -> None:
    """SIGKILL running containers: their PID 1s (which end every process of their PID
    namespaces), then, once those have ended, their inits' process groups.

    In that order: a process ``docker exec`` started inside is reaped by its ``nsenter``
    outside, which the sweep of the container's namespace kills afterwards; killed first,
    it would leave its child's zombie to whatever reaps orphans here, and PID 1 could not
    end until that did (see :func:`containers.wait_ended`).
    """
    pid1s = []
    for rec in recs:
        pid1 = containers.init_pid(rec.pid, rec.pid_start, timeout=0)
        if pid1 is not None:
            pid1s.append((pid1, proc.start_time(pid1)))
            proc.signal_pid(pid1, signal.SIGKILL)
    for rec in recs:
        pausing.release(rec)  # a paused one: thawed after the signal, so that it dies
    for pid1, started in pid1s:
        containers.wait_ended(pid1, started)
    proc.kill_groups([(r.pid, r.pid_start) for r in recs])


def rename_container(host: Host, cid: str, new: str) -> None:
    """``docker rename``: a new name, checked as Docker checks it (moby daemon/rename.go);
    on a user network the name servers answer the new one."""
    store = host.lab.store
    with store.locked():
        rec = record(host, cid)
        name = new.removeprefix("/")
        if name == rec.name:
            raise InvalidArgument("Renaming a container with the same name as its current name")
        try:
            topology.check_container_name(name)
            host.check_name_free(name)
        except NetlabError as exc:
            raise type(exc)(f"Error when allocating new name: {exc}") from None
        store.save_container(replace(rec, name=name))
    if rec.state == "running":
        networks.endpoints_changed(host, list(rec.networks))


def remove_container(host: Host, cid: str, *, force: bool) -> None:
    """``docker rm [-f]``: remove a stopped container (``force`` stops it first)."""
    with host.lab.store.locked():
        reconcile(host)
        rec = record(host, cid)
        if rec.state == "running":
            if rec.paused and not force:  # moby daemon/delete.go cleanupContainer
                raise Conflict(
                    f'cannot remove container "{rec.name}": container is paused and must be '
                    "unpaused first"
                )
            if not force:
                raise Conflict(
                    f'cannot remove container "{rec.name}": container is running: stop '
                    "the container before removing or force remove"
                )
            _kill(rec)
            _finish(host, rec, KILLED_EXIT_CODE)
        host.lab.store.drop_container(cid)


def set_auto_remove(host: Host, cid: str) -> None:
    """``docker run --rm``: remove the container once its process has ended."""
    with host.lab.store.locked():
        host.lab.store.save_container(replace(record(host, cid), auto_remove=True))


def _ours(made: Future[bool] | None) -> bool:
    """On the kernel thread, after the job ``made``: True unless it found the namespace
    already there (someone else's: nothing of ours goes into it)."""
    return made is None or made.result()


def _container_files(
    host: Host, rec: ContainerRec, made: Future[bool] | None, resolv: str
) -> dict[str, str] | None:
    """Write the container's /etc/hosts (kernel thread, after its namespace); return what
    its init shows over /etc (None: the host's own files, for ``--network host``)."""
    if not _ours(made):
        raise LabBroken(
            f"namespace {rec.netns} exists already: another process changed this lab;"
            f" run `netlab clean {host.lab.name}` and build it again"
        )
    if not rec.own_netns:
        return None
    # Like Docker, keep the container's /etc/hosts and /etc/hostname with its other files and
    # bind-mount them (and the network's resolv.conf) over /etc in the container; the image's
    # content too (nginx's welcome page).
    hosts = host.lab.store.path("containers", rec.id + ".hosts")
    name = host.lab.store.path("containers", rec.id + ".hostname")
    bridge = host.lab.store.lab_record.hosts[host.name].networks
    gateway = next((n.gateway or "" for n in bridge.values() if n.bridge == "docker0"), "")
    text = host_file(rec, gateway)
    trace.record(f"cat > {hosts} <<'EOF'\n{text.rstrip()}\nEOF")
    with open(hosts, "w") as f:
        f.write(text)
    with open(name, "w") as f:
        f.write(rec.hostname + "\n")
    binds = {"/etc/hostname": name, "/etc/hosts": hosts, "/etc/resolv.conf": resolv}
    own = host.lab.store.path("containers", rec.id + ".files")
    return binds | images.image_files(rec.image, own)


def _start_init(
    host: Host, rec: ContainerRec, etc: dict[str, str] | None, stdin: int | None = None
) -> containers.Starting:
    """Start the container's init, waiting for "go" (see :func:`containers.start`)."""
    store = host.lab.store
    lim = logs.limits(rec.log_opts)
    starting = containers.start(
        rec.netns,
        rec.real_argv,
        hostname=rec.hostname,
        binds=etc,
        exit_file=store.path("containers", rec.id + ".exit"),
        log_file=store.log_file(rec.id),
        stdin=stdin,
        keep_stdin_open=stdin is None and (rec.tty or rec.open_stdin),
        env=proc.default_env() | dict(e.split("=", 1) for e in rec.env),
        log_limits=(lim.max_size, lim.max_file),
    )
    return starting


# As Docker does for a network without IPv6, the container's interfaces get no IPv6 (no
# link-local address, no router solicitations); ``lo`` keeps ::1. Set before eth0 exists,
# "default" is all it takes, and costs far less than "all" (which revisits every device).
CONTAINER_SYSCTLS = (("net.ipv6.conf.default.disable_ipv6", "1"),)


def _new_namespace(ns: str) -> bool:
    """Create a container's namespace with its first settings (on the kernel thread).

    One that exists already is the leftover of a ``docker run`` interrupted before it wrote
    its record (the counter that names the container was not saved either, so the next run
    picks the same name). Under the lab's lock no one else can be making it: the leftover,
    its processes and its wires are removed, and the namespace is made anew. False only if
    that fails too.
    """
    if sweep.create(ns, inside=lambda: _namespace_basics(ns)):
        return True
    _remove_leftover(ns)
    return sweep.create(ns, inside=lambda: _namespace_basics(ns))


def _remove_leftover(ns: str) -> None:
    """Remove an interrupted run's namespace: processes by pid, then its links at once (a
    veth goes with its peer, so the host's end is free for the new run), then the pin."""
    lab = topology.lab_of_ns(ns)
    assert lab is not None, ns
    sweep.stop_processes(lab, [ns])
    for link in rtnl.links(ns):
        if link.name != "lo":
            rtnl.delete_link(ns, link.name)
    rtnl.forget(ns)
    netns.delete(ns)


def _namespace_basics(ns: str) -> None:
    """A new container namespace's first settings, made from inside it (see netns.create).

    ``lo`` goes up first: in a new namespace its IPv6 settings are only copied from
    "default" when it first comes up, and it should keep ::1.
    """
    trace.record(["ip", "-n", ns, "link", "set", "lo", "up"])
    rtnl.loopback_up_here()
    rtnl.record_sysctls(ns, CONTAINER_SYSCTLS)
    rtnl.write_sysctls_here(CONTAINER_SYSCTLS)


def _drop_new_namespace(ns: str, made: Future[bool]) -> None:
    """Remove a namespace made for a container that failed to start (if it was made)."""
    try:
        new = wait(made)
    except Exception:
        return  # never made

    def work() -> None:
        rtnl.forget(ns)
        netns.delete(ns)

    if new:
        batch(work)


def _wiring(host: Host, rec: ContainerRec) -> list[tuple[drivers.Driver, Endpoint, bool]]:
    """What :func:`_wire` does: each endpoint with its driver, and whether the default route
    goes through it: the endpoint marked for it (docker_gwbridge for a swarm task), else the
    first one."""
    nets = host.lab.store.lab_record.hosts[host.name].networks
    eps = [(drivers.of(nets[ep.network_id]), ep) for ep in rec.networks.values() if ep.endpoint_id]
    marked = [ep for _, ep in eps if ep.default_route]
    return [(drv, ep, ep in marked if marked else i == 0) for i, (drv, ep) in enumerate(eps)]


def _wire(host: Host, rec: ContainerRec, plan: list[tuple[drivers.Driver, Endpoint, bool]]) -> None:
    """Connect each endpoint of a new container through its network's driver (kernel thread)."""
    for drv, ep, default_route in plan:
        drv.join(host, rec, ep, default_route=default_route)


def _resolv(host: Host, rec: ContainerRec) -> str:
    """The container's resolv.conf, as Docker writes it: the embedded DNS server's on a
    user-defined network, else the host's servers (``--dns``: those). A file of its own, as
    Docker keeps one per container: ``network connect`` may rewrite it later, in place."""
    path = embedded_dns.resolv_file(host.lab, rec)
    with open(path + ".tmp", "w") as f:
        f.write(embedded_dns.resolv_conf(rec, embedded_dns.uses(host, rec)))
    os.replace(path + ".tmp", path)
    return path


def host_file(rec: ContainerRec, gateway: str = "") -> str:
    """The container's /etc/hosts, as Docker writes it: then ``--add-host`` entries
    (``host-gateway``: ``gateway``), its own IP and hostname last (moby
    libnetwork/sandbox_dns_unix.go buildHostsFile)."""
    lines = machines.HOSTS_FILE_BASE
    for entry in rec.extra_hosts:
        name, _, ip = entry.partition(":")
        lines += f"{gateway if ip == 'host-gateway' else ip}\t{name}\n"
    for ep in rec.networks.values():
        if ep.ip:
            lines += f"{ep.ip}\t{rec.hostname}\n"
    return lines


def _teardown(host: Host, rec: ContainerRec) -> None:
    """Remove a container's network: its veths (synchronously) and its namespace.

    Deleting the host end of a veth removes both ends at once, so the container's interfaces
    are really gone when this returns; the emptied namespace is then only unpinned.
    """
    if not rec.own_netns:
        return
    cns = rec.netns
    veths = _host_links(host, rec)

    containers.abort_births(cns)  # an init whose start was interrupted before anyone held it
    _kill_strays(host, [cns])
    embedded_dns.detach(host, rec)  # (its sockets would keep the namespace alive)

    def work() -> None:
        for bns, veth in veths:
            if netns.exists(bns):
                rtnl.delete_link(bns, veth)
        rtnl.forget(cns)
        netns.delete(cns)

    batch(work)


def _host_links(host: Host, rec: ContainerRec) -> list[tuple[str, str]]:
    """The links outside the container that go with its endpoints (the host ends of veths)."""
    nets = host.lab.store.lab_record.hosts[host.name].networks
    out = []
    for ep in rec.networks.values():
        net = nets.get(ep.network_id)
        if net is not None and ep.endpoint_id:
            out += drivers.of(net).host_links(host, ep)
    return out


def _kill_strays(host: Host, namespaces: list[str]) -> None:
    """Kill, by pid, every process still inside these namespaces (pinned or not).

    A container's main process group is already gone, but a daemon that called ``setsid``
    (``busybox httpd`` without ``-f``) or a ``docker exec ... &`` may still run there; it
    would keep the namespace alive after it is unpinned.
    """
    if namespaces:
        sweep.stop_processes(host.lab.name, namespaces)


def _stop_proxies(host: Host, cid: str) -> None:
    """End a container's docker-proxy processes (its record as stored says which)."""
    rec = host.lab.store.containers().get(cid)
    if rec is not None and rec.proxies:
        proxies.stop(rec.proxies)


def _finish(host: Host, rec: ContainerRec, code: int, finished: str | None = None) -> None:
    """Mark a container exited with ``code``, release its network (Docker does too)."""
    rec = pausing.release(rec)  # (no longer paused; its cgroup goes before its processes)
    proxies.stop(rec.proxies)
    _teardown(host, rec)
    exited = replace(
        rec,
        ports=(),
        proxies=(),
        state="exited",
        exit_code=code,
        pid=0,
        finished_at=finished or now_rfc3339(),
        networks={name: ep.released() for name, ep in rec.networks.items()},
    )
    host.lab.store.save_container(exited)
    # (the container's port rules go, the others stay)
    networks.endpoints_changed(host, list(rec.networks), ports=bool(rec.ports))


def reconcile(host: Host) -> None:
    """Notice containers whose process ended by itself: mark them exited, free their network."""
    store = host.lab.store
    dead = [
        r
        for r in store.containers().values()
        if r.host == host.name and r.state == "running" and not proc.alive(r.pid, r.pid_start)
    ]
    if not dead:
        return
    with store.locked():
        for r in dead:
            rec = store.containers().get(r.id)
            if rec is None or rec.state != "running":
                continue
            exit_file = store.path("containers", rec.id + ".exit")
            code = KILLED_EXIT_CODE
            finished = None
            with contextlib.suppress(FileNotFoundError, ValueError):
                with open(exit_file) as f:
                    code = int(f.read().strip())
                finished = rfc3339(os.stat(exit_file).st_mtime_ns)
            _finish(host, rec, code, finished)
            if rec.auto_remove:
                store.drop_container(rec.id)  # `docker run --rm`


def remove_many(host: Host, cids: list[str], *, force: bool) -> None:
    """Remove several containers at once (``docker rm [-f] A B C``, ``container prune``).

    Like a namespace-deleting ``ip -batch`` script: every process is killed first, then every
    namespace is unpinned in one go, and the kernel's removal of all their veths is awaited
    together (one ``RTM_DELLINK`` watch), so the kernel's clean-up work is batched.
    """

    store = host.lab.store
    with store.locked():
        reconcile(host)
        recs = [record(host, cid) for cid in cids]
        running = [r for r in recs if r.state == "running"]
        if running and not force:
            r = running[0]
            if r.paused:  # moby daemon/delete.go cleanupContainer
                raise Conflict(
                    f'cannot remove container "{r.name}": container is paused and must be '
                    "unpaused first"
                )
            raise Conflict(
                f'cannot remove container "{r.name}": container is running: stop the '
                "container before removing or force remove"
            )
        _kill_many(running)
        proxies.stop([p for r in running for p in r.proxies])
        _kill_strays(host, [r.netns for r in recs if r.own_netns])
        for r in running:
            embedded_dns.detach(host, r)  # (its sockets would keep the namespace alive)
        own = [r for r in recs if r.own_netns and netns.exists(r.netns)]
        veths = {link for r in own for ns, link in _host_links(host, r) if ns == host.ns}
        watch = None
        if veths and netns.exists(host.ns):
            idx = {i for name, i in rtnl.link_indexes(host.ns).items() if name in veths}
            watch = rtnl.LinkRemovalWatch(host.ns, idx)

        def unpin() -> None:
            for r in own:
                rtnl.forget(r.netns)
                netns.delete(r.netns)

        batch(unpin)
        if watch is not None:
            watch.wait(30.0)
        store.drop_container(*(r.id for r in recs))
        networks.endpoints_changed(
            host, sorted({n for r in recs for n in r.networks}), ports=any(r.ports for r in recs)
        )

"""The table of docker commands: their words, usage lines, flags and argument counts.

Docker's CLI has two kinds of commands. *Top-level* ones are one word (``docker run``,
``docker ps``); *management commands* are a group and a verb (``docker network ls``,
``docker service create``), and the group alone prints its list of verbs (:data:`GROUPS`).
Many commands have a second name (:data:`ALIASES`): the older top-level words are also verbs
of a group (``docker container ls`` is ``docker ps``, ``docker image ls`` is ``docker
images``), and ``ls``/``rm`` are also ``list``/``remove``.

Each entry of :data:`COMMANDS` is a :class:`netlab.docker.context.Command`:

- its path and the usage line and summary that ``--help`` prints, with Docker's words;
- its flags (:class:`netlab.docker.flags.Flag`): those netlab accepts but does not act on
  (``docker stop -t``, ``docker logs -f``) are ``hidden``, taken but not listed in ``--help``;
- how many positional arguments it takes (``min_args``/``max_args``; a wrong count prints
  Docker's "requires at least 1 argument" and the usage);
- ``interspersed=False`` for the commands whose arguments end with another program's command
  line (``run``, ``exec``, ``service create``): flags count only before the first argument,
  so ``docker run ubuntu ls -l`` passes ``-l`` to ``ls``;
- its handler, from :mod:`netlab.docker.commands`.

>>> COMMANDS["network create"].usage
'[OPTIONS] NETWORK'
>>> COMMANDS[ALIASES["container ls"]].summary
'List containers'
"""

from __future__ import annotations

from netlab.docker.commands import containers, networks, swarm, system
from netlab.docker.context import FORMAT, Command
from netlab.docker.flags import Flag

F = Flag
_FMT = FORMAT

# (service create, scale and update: the same flag)
SERVICE_DETACH = F(
    "detach", "d", help="Exit immediately instead of waiting for the service to converge"
)

COMMANDS: dict[str, Command] = {
    c.path: c
    for c in (
        Command(
            "run",
            "[OPTIONS] IMAGE [COMMAND] [ARG...]",
            "Create and run a new container from an image",
            (
                F("detach", "d", help="Run container in background and print container ID"),
                F("tty", "t", help="Allocate a pseudo-TTY"),
                F("interactive", "i", help="Keep STDIN open even if not attached"),
                F("name", takes_value=True, help="Assign a name to the container"),
                F("network", takes_value=True, help="Connect a container to a network"),
                F("net", takes_value=True, hidden=True),
                F("rm", help="Automatically remove the container when it exits"),
                F("hostname", "h", takes_value=True, help="Container host name"),
                F(
                    "publish",
                    "p",
                    takes_value=True,
                    repeated=True,
                    help="Publish a container's port(s) to the host",
                ),
                F("publish-all", "P", help="Publish all exposed ports to random ports"),
                F("env", "e", takes_value=True, repeated=True, help="Set environment variables"),
                F("log-opt", takes_value=True, repeated=True, help="Log driver options"),
                F(
                    "add-host",
                    takes_value=True,
                    repeated=True,
                    help="Add a custom host-to-IP mapping (host:ip)",
                ),
                F("dns", takes_value=True, repeated=True, help="Set custom DNS servers"),
                F("ip", takes_value=True, help="IPv4 address (e.g., 172.30.100.104)"),
                F(
                    "mac-address",
                    takes_value=True,
                    help="Container MAC address (e.g., 92:d0:c6:0a:29:33)",
                ),
                F(
                    "network-alias",
                    takes_value=True,
                    repeated=True,
                    help="Add network-scoped alias for the container",
                ),
                F("net-alias", takes_value=True, repeated=True, hidden=True),
            ),
            containers.cmd_run,
            min_args=1,
            interspersed=False,
        ),
        Command(
            "ps",
            "[OPTIONS]",
            "List containers",
            (
                F("all", "a", help="Show all containers (default shows just running)"),
                F(
                    "filter",
                    "f",
                    takes_value=True,
                    repeated=True,
                    help="Filter output based on conditions provided",
                ),
                _FMT,
                F(
                    "last",
                    "n",
                    takes_value=True,
                    help="Show n last created containers (includes all states)",
                ),
                F("latest", "l", help="Show the latest created container (includes all states)"),
                F("no-trunc", help="Don't truncate output"),
                F("quiet", "q", help="Only display container IDs"),
                F("size", "s", help="Display total file sizes"),
            ),
            containers.cmd_ps,
            max_args=0,
        ),
        Command(
            "exec",
            "[OPTIONS] CONTAINER COMMAND [ARG...]",
            "Execute a command in a running container",
            (
                F("interactive", "i", help="Keep STDIN open even if not attached"),
                F("tty", "t", help="Allocate a pseudo-TTY"),
                F("detach", "d", hidden=True),
                F("env", "e", takes_value=True, repeated=True, help="Set environment variables"),
            ),
            containers.cmd_exec,
            min_args=2,
            interspersed=False,
        ),
        Command(
            "inspect",
            "[OPTIONS] NAME|ID [NAME|ID...]",
            "Return low-level information on Docker objects",
            (
                F("format", "f", takes_value=True, help="Format output using a custom template"),
                F("type", takes_value=True, help="Only inspect objects of the given type"),
            ),
            containers.cmd_inspect,
            min_args=1,
        ),
        Command(
            "container inspect",
            "[OPTIONS] CONTAINER [CONTAINER...]",
            "Display detailed information on one or more containers",
            (F("format", "f", takes_value=True, help="Format output using a custom template"),),
            containers.cmd_container_inspect,
            min_args=1,
        ),
        Command(
            "stop",
            "[OPTIONS] CONTAINER [CONTAINER...]",
            "Stop one or more running containers",
            (
                F("signal", "s", takes_value=True, help="Signal to send to the container"),
                F(
                    "timeout",
                    "t",
                    takes_value=True,
                    help="Seconds to wait before killing the container",
                ),
                F("time", takes_value=True, hidden=True),
            ),
            containers.cmd_stop,
            min_args=1,
        ),
        Command(
            "top",
            "CONTAINER [ps OPTIONS]",
            "Display the running processes of a container",
            (),
            containers.cmd_top,
            min_args=1,
            interspersed=False,
        ),
        Command(
            "kill",
            "[OPTIONS] CONTAINER [CONTAINER...]",
            "Kill one or more running containers",
            (
                F(
                    "signal",
                    "s",
                    takes_value=True,
                    help='Signal to send to the container (default "KILL")',
                ),
            ),
            containers.cmd_kill,
            min_args=1,
        ),
        Command(
            "start",
            "[OPTIONS] CONTAINER [CONTAINER...]",
            "Start one or more stopped containers",
            (F("attach", "a", hidden=True),),
            containers.cmd_start,
            min_args=1,
        ),
        Command(
            "rm",
            "[OPTIONS] CONTAINER [CONTAINER...]",
            "Remove one or more containers",
            (F("force", "f", help="Force the removal of a running container (uses SIGKILL)"),),
            containers.cmd_rm,
            min_args=1,
        ),
        Command(
            "pause",
            "CONTAINER [CONTAINER...]",
            "Pause all processes within one or more containers",
            (),
            containers.cmd_pause,
            min_args=1,
        ),
        Command(
            "unpause",
            "CONTAINER [CONTAINER...]",
            "Unpause all processes within one or more containers",
            (),
            containers.cmd_unpause,
            min_args=1,
        ),
        Command(
            "rename",
            "CONTAINER NEW_NAME",
            "Rename a container",
            (),
            containers.cmd_rename,
            min_args=2,
            max_args=2,
        ),
        Command(
            "logs",
            "[OPTIONS] CONTAINER",
            "Fetch the logs of a container",
            (
                F("tail", "n", takes_value=True, help="Number of lines to show from the end"),
                F("follow", "f", hidden=True),
            ),
            containers.cmd_logs,
            min_args=1,
            max_args=1,
        ),
        Command(
            "port",
            "CONTAINER [PRIVATE_PORT[/PROTO]]",
            "List port mappings or a specific mapping for the container",
            (),
            containers.cmd_port,
            min_args=1,
            max_args=2,
        ),
        Command(
            "images",
            "[OPTIONS] [REPOSITORY[:TAG]]",
            "List images",
            (F("quiet", "q", help="Only show image IDs"),),
            system.cmd_images,
            max_args=1,
        ),
        Command(
            "version",
            "[OPTIONS]",
            "Show the Docker version information",
            (),
            system.cmd_version,
            max_args=0,
        ),
        Command(
            "info", "[OPTIONS]", "Display system-wide information", (), system.cmd_info, max_args=0
        ),
        Command(
            "network ls",
            "[OPTIONS]",
            "List networks",
            (
                F(
                    "filter",
                    "f",
                    takes_value=True,
                    repeated=True,
                    help='Provide filter values (e.g. "driver=bridge")',
                ),
                _FMT,
                F("no-trunc", help="Do not truncate the output"),
                F("quiet", "q", help="Only display network IDs"),
            ),
            networks.cmd_network_ls,
            max_args=0,
        ),
        Command(
            "network create",
            "[OPTIONS] NETWORK",
            "Create a network",
            (
                F(
                    "driver",
                    "d",
                    takes_value=True,
                    help='Driver to manage the Network (default "bridge")',
                ),
                F(
                    "subnet",
                    takes_value=True,
                    help="Subnet in CIDR format that represents a network segment",
                ),
                F(
                    "ip-range",
                    takes_value=True,
                    help="Allocate container ip from a sub-range",
                ),
                F("gateway", takes_value=True, help="IPv4 or IPv6 Gateway for the master subnet"),
                F(
                    "aux-address",
                    takes_value=True,
                    repeated=True,
                    help="Auxiliary IPv4 or IPv6 addresses used by Network driver (default map[])",
                ),
                F("internal", help="Restrict external access to the network"),
                F("label", takes_value=True, repeated=True, help="Set metadata on a network"),
                F(
                    "opt",
                    "o",
                    takes_value=True,
                    repeated=True,
                    help="Set driver specific options (default map[])",
                ),
            ),
            networks.cmd_network_create,
            min_args=1,
            max_args=1,
        ),
        Command(
            "network inspect",
            "[OPTIONS] NETWORK [NETWORK...]",
            "Display detailed information on one or more networks",
            (F("format", "f", takes_value=True, help="Format output using a custom template"),),
            networks.cmd_network_inspect,
            min_args=1,
        ),
        Command(
            "network connect",
            "[OPTIONS] NETWORK CONTAINER",
            "Connect a container to a network",
            (
                F(
                    "alias",
                    takes_value=True,
                    repeated=True,
                    help="Add network-scoped alias for the container",
                ),
                F("ip", takes_value=True, help="IPv4 address (e.g., 172.30.100.104)"),
            ),
            networks.cmd_network_connect,
            min_args=2,
            max_args=2,
        ),
        Command(
            "network disconnect",
            "[OPTIONS] NETWORK CONTAINER",
            "Disconnect a container from a network",
            (F("force", "f", help="Force the container to disconnect from a network"),),
            networks.cmd_network_disconnect,
            min_args=2,
            max_args=2,
        ),
        Command(
            "network rm",
            "NETWORK [NETWORK...]",
            "Remove one or more networks",
            (F("force", "f", hidden=True),),
            networks.cmd_network_rm,
            min_args=1,
        ),
        Command(
            "network prune",
            "[OPTIONS]",
            "Remove all unused networks",
            (F("force", "f", help="Do not prompt for confirmation"),),
            networks.cmd_network_prune,
            max_args=0,
        ),
        Command(
            "swarm init",
            "[OPTIONS]",
            "Initialize a swarm",
            (F("advertise-addr", takes_value=True, help="Advertised address"),),
            swarm.cmd_swarm_init,
            max_args=0,
        ),
        Command(
            "swarm join",
            "[OPTIONS] HOST:PORT",
            "Join a swarm as a node and/or manager",
            (
                F("token", takes_value=True, help="Token for entry into the swarm"),
                F("advertise-addr", takes_value=True, hidden=True),
            ),
            swarm.cmd_swarm_join,
            min_args=1,
            max_args=1,
        ),
        Command(
            "swarm leave",
            "[OPTIONS]",
            "Leave the swarm",
            (
                F(
                    "force",
                    "f",
                    help="Force this node to leave the swarm, ignoring warnings",
                ),
            ),
            swarm.cmd_swarm_leave,
            max_args=0,
        ),
        Command(
            "swarm join-token",
            "[OPTIONS] (worker|manager)",
            "Manage join tokens",
            (F("quiet", "q", help="Only display token"),),
            swarm.cmd_swarm_join_token,
            min_args=1,
            max_args=1,
        ),
        Command(
            "node ls",
            "[OPTIONS]",
            "List nodes in the swarm",
            (F("quiet", "q", help="Only display IDs"),),
            swarm.cmd_node_ls,
            max_args=0,
        ),
        Command(
            "node update",
            "[OPTIONS] NODE",
            "Update a node",
            (
                F(
                    "availability",
                    takes_value=True,
                    help='Availability of the node ("active", "pause", "drain")',
                ),
            ),
            swarm.cmd_node_update,
            min_args=1,
            max_args=1,
        ),
        Command(
            "node rm",
            "[OPTIONS] NODE [NODE...]",
            "Remove one or more nodes from the swarm",
            (F("force", "f", help="Force remove a node from the swarm"),),
            swarm.cmd_node_rm,
            min_args=1,
        ),
        Command(
            "service create",
            "[OPTIONS] IMAGE [COMMAND] [ARG...]",
            "Create a new service",
            (  # in docker's order (by name)
                SERVICE_DETACH,
                F(
                    "constraint",
                    takes_value=True,
                    repeated=True,
                    help="Placement constraints",
                ),
                F("mode", takes_value=True, help='Service mode ("replicated", "global")'),
                F(
                    "endpoint-mode",
                    takes_value=True,
                    help='Endpoint mode (vip or dnsrr) (default "vip")',
                ),
                F("name", takes_value=True, help="Service name"),
                F("network", takes_value=True, repeated=True, help="Network attachments"),
                F(
                    "publish",
                    "p",
                    takes_value=True,
                    repeated=True,
                    help="Publish a port as a node port",
                ),
                F("quiet", "q", help="Suppress progress output"),
                F("replicas", takes_value=True, help="Number of tasks"),
                F(
                    "replicas-max-per-node",
                    takes_value=True,
                    help="Maximum number of tasks per node (default 0 = unlimited)",
                ),
            ),
            swarm.cmd_service_create,
            min_args=1,
            interspersed=False,
        ),
        Command(
            "service ls",
            "[OPTIONS]",
            "List services",
            (_FMT, F("quiet", "q", help="Only display IDs")),
            swarm.cmd_service_ls,
            max_args=0,
        ),
        Command(
            "service ps",
            "[OPTIONS] SERVICE [SERVICE...]",
            "List the tasks of one or more services",
            (
                F(
                    "filter",
                    "f",
                    takes_value=True,
                    repeated=True,
                    help="Filter output based on conditions provided",
                ),
                _FMT,
                F("no-trunc", help="Do not truncate output"),
                F("quiet", "q", help="Only display task IDs"),
            ),
            swarm.cmd_service_ps,
            min_args=1,
        ),
        Command(
            "service scale",
            "SERVICE=REPLICAS [SERVICE=REPLICAS...]",
            "Scale one or multiple replicated services",
            (SERVICE_DETACH,),
            swarm.cmd_service_scale,
            min_args=1,
        ),
        Command(
            "service logs",
            "[OPTIONS] SERVICE|TASK",
            "Fetch the logs of a service or task",
            (
                F("follow", "f", hidden=True),
                F("no-task-ids", help="Do not include task IDs in output"),
                F("no-trunc", help="Do not truncate output"),
                F("raw", help="Do not neatly format logs"),
                F(
                    "tail",
                    "n",
                    takes_value=True,
                    help='Number of lines to show from the end of the logs (default "all")',
                ),
            ),
            swarm.cmd_service_logs,
            min_args=1,
            max_args=1,
        ),
        Command(
            "service rm",
            "SERVICE [SERVICE...]",
            "Remove one or more services",
            (),
            swarm.cmd_service_rm,
            min_args=1,
        ),
        Command(
            "service inspect",
            "[OPTIONS] SERVICE [SERVICE...]",
            "Display detailed information on one or more services",
            (
                F("format", "f", takes_value=True, help="Format output using a custom template"),
                F("pretty", help="Print the information in a human friendly format"),
            ),
            swarm.cmd_service_inspect,
            min_args=1,
        ),
        Command(
            "service update",
            "[OPTIONS] SERVICE",
            "Update a service",
            (  # in docker's order (by name)
                SERVICE_DETACH,
                F("image", takes_value=True, help="Service image tag"),
                F(
                    "publish-add",
                    takes_value=True,
                    repeated=True,
                    help="Add or update a published port",
                ),
                F(
                    "publish-rm",
                    takes_value=True,
                    repeated=True,
                    help="Remove a published port by its target port",
                ),
                F("quiet", "q", help="Suppress progress output"),
                F("replicas", takes_value=True, help="Number of tasks"),
            ),
            swarm.cmd_service_update,
            min_args=1,
            max_args=1,
        ),
    )
}

ALIASES = {
    "container ls": "ps",
    "container ps": "ps",
    "container list": "ps",
    "container run": "run",
    "container exec": "exec",
    "container stop": "stop",
    "container kill": "kill",
    "container top": "top",
    "container start": "start",
    "container rm": "rm",
    "container rename": "rename",
    "container pause": "pause",
    "container unpause": "unpause",
    "container remove": "rm",
    "container logs": "logs",
    "container port": "port",
    "image ls": "images",
    "image list": "images",
    "network list": "network ls",
    "network remove": "network rm",
    "container create": "run",
    "node list": "node ls",
    "node remove": "node rm",
    "service list": "service ls",
    "service remove": "service rm",
}
GROUPS = {
    "network": "Manage networks",
    "container": "Manage containers",
    "image": "Manage images",
    "swarm": "Manage Swarm",
    "node": "Manage Swarm nodes",
    "service": "Manage Swarm services",
}

"""A class on one machine with a real JupyterHub (hub/), and the other spawners' settings.

The class: the hub (hub/jupyterhub_config.py, from the checkout's .venv, with its
configurable-http-proxy) on 127.0.0.1, three throwaway Unix students (with subordinate ids),
each with a server the hub starts as them (LocalProcessSpawner), a copy of the labs in their
home, and lab 05 (the two-node overlay) run in all three servers' kernels at the same time,
through the proxy and each server's REST and websocket API, with a token of each student's
own. Each student's ``netlab ls``, from their kernel and from a JupyterLab terminal (which runs
``netlab shell``), lists their own labs and no one else's. At the end the servers and the hub
stop, each student's rootless netlab is stopped (``netlab clean --all`` as them) and the
students go, also when the test fails.

The settings for Kubernetes (hub/k8s/*.yaml, hub/kubespawner_*.py), DockerSpawner and TLJH are
loaded with the real spawner classes: a setting a class does not have (a misspelt trait) fails,
and the helm values and the Python files must make the same pod.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import MagicMock

import pytest

from netlab import throwaway
from netlab.kernel import userns

pytestmark = pytest.mark.root

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HUB_DIR = os.path.join(REPO, "hub")
VENV_BIN = os.path.join(REPO, ".venv", "bin")
JUPYTER_DIR = os.path.join(REPO, ".venv", "share", "netlab-jupyter")
LAB = os.path.join(REPO, "labs", "05-overlay.ipynb")
STUDENTS = 3
CELL_TIMEOUT = 180.0  # seconds for one cell (three labs at once on two cores)

# --------------------------------------------------------------------- settings, checked


def _load(path: str, env: dict[str, str] | None = None) -> Any:
    """A traitlets Config from a Python config file, as JupyterHub loads it."""
    from traitlets.config.loader import PyFileConfigLoader

    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        return PyFileConfigLoader(os.path.basename(path), path=os.path.dirname(path)).load_config()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _check_names(config: Any, *classes: type) -> None:
    """Every section of ``config`` is one of ``classes`` (or a class they derive from), and
    every key a setting (a configurable trait) of that class: a misspelt name fails here, where
    JupyterHub would only log a warning and go on without it."""
    from traitlets.config import Configurable

    known: dict[str, type] = {}
    for cls in classes:
        for klass in cls.__mro__:
            if isinstance(klass, type) and issubclass(klass, Configurable):
                known.setdefault(klass.__name__, klass)
    for section, values in config.items():
        assert section in known, f"config section {section!r} is none of {sorted(known)}"
        traits = known[section].class_traits(config=True)  # type: ignore[attr-defined]
        unknown = sorted(set(values) - set(traits))
        assert not unknown, f"{section} has no setting {unknown} (misspelt?)"


def test_a_misspelt_setting_fails_the_check(tmp_path: Any) -> None:
    kubespawner = pytest.importorskip("kubespawner")
    bad = tmp_path / "bad_config.py"
    bad.write_text("c.KubeSpawner.privileged = True\nc.KubeSpawner.extra_pod_confg = {}\n")
    with pytest.raises(AssertionError, match="extra_pod_confg"):
        _check_names(_load(str(bad)), kubespawner.KubeSpawner)
    bad.write_text("c.KubeSpawnr.privileged = True\n")
    with pytest.raises(AssertionError, match="KubeSpawnr"):
        _check_names(_load(str(bad)), kubespawner.KubeSpawner)


def test_one_machine_config(tmp_path: Any) -> None:
    pytest.importorskip("jupyterhub")
    from jupyterhub.app import JupyterHub
    from jupyterhub.auth import PAMAuthenticator
    from jupyterhub.proxy import ConfigurableHTTPProxy
    from jupyterhub.spawner import LocalProcessSpawner

    state = tmp_path / "state"
    env = {"NETLAB_HUB_STATE": str(state), "NETLAB_HUB_IP": "0.0.0.0", "NETLAB_HUB_PORT": "8123"}
    config = _load(os.path.join(HUB_DIR, "jupyterhub_config.py"), env)
    _check_names(config, JupyterHub, LocalProcessSpawner, PAMAuthenticator, ConfigurableHTTPProxy)
    assert config.JupyterHub.bind_url == "http://0.0.0.0:8123"
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(state / "proxy_auth_token").st_mode) == 0o600
    spawner = LocalProcessSpawner(config=config)
    assert spawner.cmd == [os.path.join(VENV_BIN, "jupyterhub-singleuser")]
    assert spawner.environment["JUPYTER_PATH"] == JUPYTER_DIR
    assert spawner.environment["JUPYTER_CONFIG_PATH"] == JUPYTER_DIR
    assert spawner.environment["PATH"].split(os.pathsep)[0] == VENV_BIN
    assert (spawner.default_url, spawner.notebook_dir) == ("/lab", "~/netlab-labs")
    assert callable(spawner.pre_spawn_hook)
    # Loaded again, the same secret (kept in the state folder).
    again = _load(os.path.join(HUB_DIR, "jupyterhub_config.py"), env)
    assert again.ConfigurableHTTPProxy.auth_token == config.ConfigurableHTTPProxy.auth_token


# Zero to JupyterHub's singleuser.* keys (chart 4.x, values.schema.yaml: it refuses others)
# and the KubeSpawner traits the chart sets from those this project uses.
Z2JH_SINGLEUSER_KEYS = {
    *("allowPrivilegeEscalation", "cloudMetadata", "cmd", "cpu", "defaultUrl", "events"),
    *("extraAnnotations", "extraContainers", "extraEnv", "extraFiles", "extraLabels"),
    *("extraNodeAffinity", "extraPodAffinity", "extraPodAntiAffinity", "extraPodConfig"),
    *("extraResource", "extraTolerations", "fsGid", "image", "initContainers"),
    *("lifecycleHooks", "memory", "networkPolicy", "networkTools", "nodeSelector"),
    *("podNameTemplate", "profileList", "serviceAccountName", "startTimeout", "storage", "uid"),
}
Z2JH_TO_TRAIT = {
    "uid": "uid",
    "fsGid": "fs_gid",
    "allowPrivilegeEscalation": "allow_privilege_escalation",
    "extraPodConfig": "extra_pod_config",
    "cmd": "cmd",
    "defaultUrl": "default_url",
    "extraEnv": "environment",
    "lifecycleHooks": "lifecycle_hooks",
    "startTimeout": "start_timeout",
}


def _values_config(path: str) -> Any:
    """The KubeSpawner config that Zero to JupyterHub makes of a values file: singleuser.*
    first, then hub.config (passed through as it is)."""
    import yaml
    from traitlets.config import Config

    with open(path) as f:
        values = yaml.safe_load(f)
    assert set(values) <= {"hub", "singleuser", "proxy", "scheduling", "cull", "prePuller"}
    singleuser = values.get("singleuser", {})
    unknown = sorted(set(singleuser) - Z2JH_SINGLEUSER_KEYS)
    assert not unknown, f"{path}: the chart has no singleuser.{unknown}"
    config = Config()
    for key, trait in Z2JH_TO_TRAIT.items():
        if key in singleuser:
            config.KubeSpawner[trait] = singleuser[key]
    image = singleuser.get("image", {})
    config.KubeSpawner.image = f"{image['name']}:{image['tag']}"
    for extra in singleuser.get("extraFiles", {}).values():
        assert set(extra) <= {"mountPath", "stringData", "data", "binaryData", "mode"}
    for section, settings in values.get("hub", {}).get("config", {}).items():
        config[section].update(settings)
    return config


_KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none, namespace: netlab}}]
current-context: none
"""


def _pod(config: Any, tmp_path: Any, monkeypatch: Any) -> Any:
    """The pod KubeSpawner would create with ``config`` (no cluster is asked: KubeSpawner reads
    a kube config at start, here one that points nowhere)."""
    from kubespawner import KubeSpawner

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(_KUBECONFIG)
    monkeypatch.setattr(
        "kubernetes_asyncio.config.kube_config.KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig)
    )

    async def make() -> Any:
        spawner = KubeSpawner(config=config, _mock=True)
        return await spawner.get_pod_manifest()

    return asyncio.run(make())


def _essentials(pod: Any) -> dict[str, Any]:
    container = pod.spec.containers[0]
    return {
        "hostUsers": pod.spec.host_users,
        "securityContext": container.security_context,
        "args": container.args,
        "env": {e.name: e.value for e in container.env if e.name.startswith("NETLAB_")},
        "root_dir": next(e.value for e in container.env if e.name == "JUPYTERHUB_ROOT_DIR"),
    }


@pytest.mark.parametrize("mode", ["privileged", "userns"])
def test_kubernetes_settings(mode: str, tmp_path: Any, monkeypatch: Any) -> None:
    kubespawner = pytest.importorskip("kubespawner")
    pytest.importorskip("yaml")
    from jupyterhub.app import JupyterHub

    python = _load(os.path.join(HUB_DIR, f"kubespawner_{mode}.py"))
    _check_names(python, JupyterHub, kubespawner.KubeSpawner)
    assert python.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    values = _values_config(os.path.join(HUB_DIR, "k8s", f"values-{mode}.yaml"))
    _check_names(values, kubespawner.KubeSpawner)
    pod = _essentials(_pod(python, tmp_path, monkeypatch))
    # The helm values and the Python file make the same pod (its security, command, labs).
    assert _essentials(_pod(values, tmp_path, monkeypatch)) == pod
    context = pod["securityContext"]
    assert pod["args"][:2] == ["sh", "/srv/netlab/hub/start-singleuser.sh"]
    assert pod["root_dir"] == "~/netlab-labs"
    if mode == "privileged":
        assert context["privileged"] is True and context["runAsUser"] == 0
        # (the API server refuses privileged with allowPrivilegeEscalation false)
        assert context["allowPrivilegeEscalation"] is True
        assert pod["args"][-1] == "--allow-root"
        assert pod["hostUsers"] is None
    else:
        assert pod["hostUsers"] is False
        assert "privileged" not in context and context["runAsUser"] == 1000
        assert context["procMount"] == "Unmasked"
        assert context["seccompProfile"] == {"type": "Unconfined"}
        assert context["appArmorProfile"] == {"type": "Unconfined"}
        assert context["allowPrivilegeEscalation"] is True  # (newuidmap is setuid)
        assert "--allow-root" not in pod["args"]


MOCK_USER = types.SimpleNamespace(name="student", id=1, url="/user/student/")


def test_docker_settings() -> None:
    dockerspawner = pytest.importorskip("dockerspawner")
    from jupyterhub.app import JupyterHub

    config = _load(os.path.join(HUB_DIR, "dockerspawner_config.py"))
    _check_names(config, JupyterHub, dockerspawner.DockerSpawner)
    spawner = dockerspawner.DockerSpawner(config=config, user=MOCK_USER)
    assert spawner.extra_host_config["privileged"] is True
    assert spawner.extra_create_kwargs == {"user": "root"}
    assert spawner.args == ["--allow-root"]
    assert spawner.cmd == ["sh", "/srv/netlab/hub/start-singleuser.sh"]


def test_tljh_settings() -> None:
    systemdspawner = pytest.importorskip("systemdspawner")

    config = _load(os.path.join(HUB_DIR, "tljh", "netlab.py"))
    _check_names(config, systemdspawner.SystemdSpawner)
    spawner = systemdspawner.SystemdSpawner(config=config, user=MOCK_USER)
    assert spawner.cmd == ["/bin/sh", os.path.join(REPO, "hub", "start-singleuser.sh")]
    assert spawner.environment["NETLAB_REPO"] == REPO
    assert spawner.unit_extra_properties == {"NoNewPrivileges": "no"}
    assert (spawner.default_url, spawner.notebook_dir) == ("/lab", "~/netlab-labs")


def test_start_singleuser_script(tmp_path: Any) -> None:
    """hub/start-singleuser.sh (pods, TLJH): the kernel set-up in the home, the labs copied
    once (an existing copy is kept), then jupyterhub-singleuser with the arguments."""
    pytest.importorskip("jupyterhub")
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "NETLAB_PYTHON": os.path.join(VENV_BIN, "python"),
    }
    script = os.path.join(HUB_DIR, "start-singleuser.sh")
    done = subprocess.run(["sh", script, "--version"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()[:1].isdigit(), done.stdout  # (jupyterhub-singleuser's version)
    spec = json.loads(
        (home / ".local/share/netlab-jupyter/kernels/python3/kernel.json").read_text()
    )
    assert spec["argv"][1:4] == ["-m", "netlab.rootless", "kernel"]
    copy = home / "netlab-labs"
    assert (copy / "05-overlay.ipynb").exists() and not (copy / "sanitize.cfg").exists()
    (copy / "05-overlay.ipynb").write_text("{}")  # the student's work
    assert subprocess.run(["sh", script, "--version"], env=env, capture_output=True).returncode == 0
    assert (copy / "05-overlay.ipynb").read_text() == "{}"


def test_hook_makes_a_missing_student(tmp_path: Any) -> None:
    """With NETLAB_HUB_CREATE_USERS=1 (an authenticator that is not PAM), the hub's
    pre_spawn_hook makes the Unix user, gives it subordinate ids and copies the labs."""
    pytest.importorskip("jupyterhub")
    if userns.inside() or shutil.which("useradd") is None:
        pytest.skip("needs the machine's root and useradd")
    if not _readable_by_others():
        pytest.skip(f"other users cannot read {REPO} and its .venv")
    env = {"NETLAB_HUB_STATE": str(tmp_path / "state"), "NETLAB_HUB_CREATE_USERS": "1"}
    hook = _load(os.path.join(HUB_DIR, "jupyterhub_config.py"), env).Spawner.pre_spawn_hook
    name = f"nlhubnew-{os.getpid() % 100000}"
    spawner = types.SimpleNamespace(user=types.SimpleNamespace(name=name), log=MagicMock())
    try:
        asyncio.run(hook(spawner))
        entry = pwd.getpwnam(name)
        copy = os.path.join(entry.pw_dir, "netlab-labs")
        assert os.stat(os.path.join(copy, "05-overlay.ipynb")).st_uid == entry.pw_uid
        with open("/etc/subuid") as f:
            assert any(line.startswith(f"{name}:") for line in f)
        asyncio.run(hook(spawner))  # (again: nothing changes)
        with pytest.raises(RuntimeError, match="no Unix user"):
            bad = types.SimpleNamespace(user=types.SimpleNamespace(name="Bad Name"), log=None)
            asyncio.run(hook(bad))
    finally:
        subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)


# --------------------------------------------------------------------- the class, for real


@dataclass
class Student:
    name: str
    uid: int
    gid: int
    home: str
    token: str = ""
    log: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _readable_by_others() -> bool:
    """True if a user with no groups can run the .venv's jupyterhub-singleuser and read the
    labs and the kernel set-up (the students' servers need that)."""
    check = [
        *("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "test"),
        *("-x", os.path.join(VENV_BIN, "jupyterhub-singleuser"), "-a", "-r", LAB),
        *("-a", "-r", os.path.join(JUPYTER_DIR, "kernels", "python3", "kernel.json")),
    ]
    return subprocess.run(check, capture_output=True).returncode == 0


def _wait(cond: Callable[[], object], timeout: float, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(every)
    return bool(cond())


def _as(student: Student, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *("setpriv", f"--reuid={student.uid}", f"--regid={student.gid}", "--init-groups"),
            *(
                "env",
                "-i",
                f"HOME={student.home}",
                f"PATH={VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
            ),
            *argv,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )


@pytest.fixture
def students() -> Iterator[list[Student]]:
    """Three throwaway Unix users (netlab.throwaway) with homes and subordinate ids;
    afterwards their rootless netlab is stopped, leftovers ended by pid, and they go."""
    if userns.inside():
        pytest.skip("inside rootless netlab: the machine's root makes the users")
    for tool in ("useradd", "userdel", "setpriv"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool}")
    if masked := userns.proc_masked():
        pytest.skip(masked)
    pytest.importorskip("jupyterhub", reason="jupyterhub is not installed (sudo hub/setup.sh)")
    chp = os.path.join(HUB_DIR, "node_modules", ".bin", "configurable-http-proxy")
    if not os.path.exists(chp) and shutil.which("configurable-http-proxy") is None:
        pytest.skip("configurable-http-proxy is not installed (sudo hub/setup.sh)")
    if not os.path.exists(os.path.join(JUPYTER_DIR, "kernels", "python3", "kernel.json")):
        pytest.skip(f"no kernel set-up in {JUPYTER_DIR} (sudo ./run.sh setup)")
    if not _readable_by_others():
        pytest.skip(
            f"other users cannot read {REPO} and its .venv: the students' servers could not "
            "start (clone it into a folder everyone can read, e.g. /opt/netlab or /tmp)"
        )
    made: list[throwaway.User] = []
    try:
        for i in range(STUDENTS):
            made.append(throwaway.add(f"nlhub{i}-{os.getpid() % 100000}", login=True))
        yield [Student(u.name, u.uid, u.gid, u.home) for u in made]
    finally:
        for u in made:
            throwaway.remove(u)


@dataclass
class Hub:
    url: str
    token: str
    proc: subprocess.Popen[bytes]
    log_path: str

    def api(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        import requests

        return requests.request(
            method,
            f"{self.url}{path}",
            headers={"Authorization": f"token {token or self.token}"},
            timeout=60,
            **kw,
        )

    def log(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()[-6000:]


@pytest.fixture
def hub(students: list[Student]) -> Iterator[Hub]:
    """The real JupyterHub on 127.0.0.1 (hub/jupyterhub_config.py, state in a temporary folder)
    with an admin service token; stopped at the end (its servers and proxy with it)."""
    state = tempfile.mkdtemp(prefix="netlab-hub-state-")
    token = uuid.uuid4().hex
    port = _free_port()
    config = os.path.join(state, "test_config.py")
    with open(config, "w") as f:
        f.write(
            f"load_subconfig({os.path.join(HUB_DIR, 'jupyterhub_config.py')!r})\n"
            f"c.JupyterHub.services = [{{'name': 'netlab-test', 'api_token': {token!r}}}]\n"
            "c.JupyterHub.load_roles = [{'name': 'netlab-test', 'services': ['netlab-test'],\n"
            "    'scopes': ['admin:users', 'admin:servers', 'tokens', 'access:servers',\n"
            "               'read:users', 'list:users']}]\n"
        )
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
        "NETLAB_HUB_STATE": state,
        "NETLAB_HUB_IP": "127.0.0.1",
        "NETLAB_HUB_PORT": str(port),
        "NETLAB_HUB_API_PORT": str(_free_port()),
        "NETLAB_HUB_PROXY_API_PORT": str(_free_port()),
    }
    log_path = os.path.join(state, "hub.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [os.path.join(VENV_BIN, "jupyterhub"), "-f", config],
            cwd=state,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    the_hub = Hub(f"http://127.0.0.1:{port}", token, proc, log_path)
    try:

        def up() -> bool:
            assert proc.poll() is None, f"the hub ended:\n{the_hub.log()}"
            with contextlib.suppress(Exception):
                return bool(the_hub.api("GET", "/hub/api/").status_code == 200)
            return False

        assert _wait(up, 60), f"the hub did not answer:\n{the_hub.log()}"
        yield the_hub
    finally:
        proxy_pid = None
        with (
            contextlib.suppress(OSError, ValueError),
            open(os.path.join(state, "jupyterhub-proxy.pid")) as f,
        ):
            proxy_pid = int(f.read())
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # (it stops the servers and the proxy)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proxy_pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proxy_pid, signal.SIGTERM)
        shutil.rmtree(state, ignore_errors=True)


class Kernel:
    """A kernel of a student's server, driven over its websocket as JupyterLab does."""

    def __init__(self, server: str, token: str, student: Student) -> None:
        import requests
        import websocket

        self.server, self.token, self.student = server, token, student
        self.headers = {"Authorization": f"token {token}"}
        r = requests.post(
            f"{server}/api/kernels",
            json={"name": "python3", "path": "05-overlay.ipynb"},
            headers=self.headers,
            timeout=60,
        )
        assert r.status_code == 201, r.text
        self.id = r.json()["id"]
        self.session = uuid.uuid4().hex
        self.ws = websocket.create_connection(
            f"{server.replace('http', 'ws', 1)}/api/kernels/{self.id}/channels"
            f"?session_id={self.session}",
            header=[f"Authorization: token {token}"],
            suppress_origin=True,
            timeout=CELL_TIMEOUT,
        )

    def run(self, code: str) -> tuple[str, str | None]:
        """Execute ``code``; return its output (text) and its error (None if it had none)."""
        msg_id = uuid.uuid4().hex
        self.ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "username": self.student.name,
                        "session": self.session,
                        "version": "5.3",
                        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": True,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        out: list[str] = []
        error: str | None = None
        replied = idle = False
        deadline = time.monotonic() + CELL_TIMEOUT
        while not (replied and idle):
            assert time.monotonic() < deadline, f"cell timed out: {code[:80]!r}"
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                out.append(content.get("data", {}).get("text/plain", ""))
            elif kind == "error":
                error = f"{content['ename']}: {content['evalue']}"
            elif kind == "execute_reply":
                replied = True
                if content["status"] != "ok" and error is None:
                    error = f"{content.get('ename')}: {content.get('evalue')}"
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
        return "".join(out), error

    def close(self) -> None:
        import requests

        with contextlib.suppress(Exception):
            self.ws.close()
        with contextlib.suppress(Exception):
            requests.delete(
                f"{self.server}/api/kernels/{self.id}", headers=self.headers, timeout=30
            )


def _terminal_ls(server: str, token: str) -> str:
    """``netlab ls`` typed into a new JupyterLab terminal (it runs ``netlab shell``)."""
    import requests
    import websocket

    headers = {"Authorization": f"token {token}"}
    r = requests.post(f"{server}/api/terminals", headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    name = r.json()["name"]
    ws = websocket.create_connection(
        f"{server.replace('http', 'ws', 1)}/terminals/websocket/{name}",
        header=[f"Authorization: token {token}"],
        suppress_origin=True,
        timeout=60,
    )
    try:
        # (the marker is computed, so that the typed command's echo does not end the wait)
        ws.send(json.dumps(["stdin", "netlab ls; echo NL-$((6*7))-END\r"]))
        text = ""
        deadline = time.monotonic() + 60
        while "NL-42-END" not in text:
            assert time.monotonic() < deadline, f"the terminal said: {text!r}"
            msg = json.loads(ws.recv())
            if msg[0] == "stdout":
                text += msg[1]
        return text
    finally:
        ws.close()
        requests.delete(f"{server}/api/terminals/{name}", headers=headers, timeout=30)


def _code_cells(path: str) -> list[str]:
    with open(path) as f:
        nb = json.load(f)
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def test_a_class_of_three_runs_lab_05_at_once(hub: Hub, students: list[Student]) -> None:
    started = time.monotonic()
    # One student has a copy of the labs already (their work): it must be kept as it is.
    kept = os.path.join(students[0].home, "netlab-labs")
    os.mkdir(kept)
    for name, text in (("05-overlay.ipynb", "my lab 05\n"), ("my-notes.txt", "mine\n")):
        with open(os.path.join(kept, name), "w") as f:
            f.write(text)
    for path in (kept, *(os.path.join(kept, n) for n in os.listdir(kept))):
        os.chown(path, students[0].uid, students[0].gid)

    # The students in the hub, their servers started, a token each: all through the REST API.
    for s in students:
        r = hub.api("POST", f"/hub/api/users/{s.name}")
        assert r.status_code == 201, r.text
        r = hub.api("POST", f"/hub/api/users/{s.name}/server")
        assert r.status_code in (201, 202), r.text
    servers: dict[str, str] = {}

    def all_ready() -> bool:
        for s in students:
            model = hub.api("GET", f"/hub/api/users/{s.name}").json()
            server = model.get("servers", {}).get("")
            # (the server is there from the POST on, pending until ready; gone if it failed)
            assert server, f"{s.name}'s server did not start:\n{hub.log()}"
            if not server.get("ready"):
                return False
            servers[s.name] = hub.url + server["url"].rstrip("/")
        return True

    assert _wait(all_ready, 120, every=0.5), f"servers not ready:\n{hub.log()}"
    for s in students:
        r = hub.api(
            "POST",
            f"/hub/api/users/{s.name}/tokens",
            json={"note": "netlab hub test", "expires_in": 900},
        )
        assert r.status_code == 201, r.text
        s.token = r.json()["token"]
        assert hub.api("GET", "/hub/api/user", token=s.token).json()["name"] == s.name

    # Each home has the labs, the student's own; in the existing copy, the student's files are
    # as they were, and what it lacked was added.
    for s in students[1:]:
        copy = os.path.join(s.home, "netlab-labs")
        names = sorted(os.listdir(copy))
        assert "05-overlay.ipynb" in names and "README.md" in names, names
        assert "sanitize.cfg" not in names and not any(n.startswith(".") for n in names), names
        assert {os.stat(os.path.join(copy, n)).st_uid for n in [".", *names]} == {s.uid}
    assert sorted(os.listdir(kept)) == sorted([*os.listdir(copy), "my-notes.txt"])
    for name, text in (("05-overlay.ipynb", "my lab 05\n"), ("my-notes.txt", "mine\n")):
        with open(os.path.join(kept, name)) as f:
            assert f.read() == text

    # Lab 05 in the three kernels at once; each student also has a lab of their own name, and
    # lists their labs while all of them are up.
    cells = _code_cells(LAB)
    assert cells[-1].strip() == "lab.down()", cells[-1]
    listed = threading.Barrier(STUDENTS, timeout=600)
    done = threading.Barrier(STUDENTS, timeout=600)
    results: dict[str, dict[str, Any]] = {}

    def student_work(i: int, s: Student) -> None:
        result: dict[str, Any] = {"errors": []}
        results[s.name] = result
        kernel = None
        try:
            kernel = Kernel(servers[s.name], s.token, s)
            own = f"own{i}"
            steps = [f"import subprocess\nsubprocess.run(['netlab', 'up', {own!r}], check=True)"]
            for n, code in enumerate([*steps, *cells[:-1]]):
                out, error = kernel.run(code)
                if error:
                    result["errors"].append(f"cell {n}: {error}\n{out[-1500:]}")
            listed.wait()
            out, error = kernel.run(
                "print(subprocess.run(['netlab', 'ls'], capture_output=True, text=True,"
                " check=True).stdout)"
            )
            result["kernel ls"] = error or out
            result["terminal ls"] = _terminal_ls(servers[s.name], s.token)
            done.wait()
            for code in (cells[-1], f"subprocess.run(['netlab', 'down', {own!r}], check=True)"):
                out, error = kernel.run(code)
                if error:
                    result["errors"].append(f"{code}: {error}\n{out[-1500:]}")
        except BaseException as exc:
            result["errors"].append(f"{type(exc).__name__}: {exc}")
            listed.abort()
            done.abort()
        finally:
            if kernel is not None:
                kernel.close()

    threads = [
        threading.Thread(target=student_work, args=(i, s), daemon=True)
        for i, s in enumerate(students)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(900)
    lab_time = time.monotonic() - started
    failed = [f"{s.name}: {e}" for s in students for e in results[s.name]["errors"]]
    assert not failed, "\n".join(failed)
    for i, s in enumerate(students):
        result = results[s.name]
        for where in ("kernel ls", "terminal ls"):
            text = result[where]
            assert f"lab own{i}:" in text and "lab lab5:" in text, (s.name, where, text)
            others = [f"own{j}" for j in range(STUDENTS) if j != i]
            assert not any(o in text for o in others), (s.name, where, text)
            assert text.count("lab lab5:") == 1, (s.name, where, text)

    # Stop the servers through the hub, as an admin would.
    for s in students:
        r = hub.api("DELETE", f"/hub/api/users/{s.name}/server")
        assert r.status_code in (202, 204), r.text

    def all_stopped() -> bool:
        return all(
            not hub.api("GET", f"/hub/api/users/{s.name}").json().get("servers") for s in students
        )

    assert _wait(all_stopped, 60, every=0.5), hub.log()
    # Each student's labs are gone; their rootless netlab stays until they stop it.
    for s in students:
        assert _as(s, "netlab", "ls").stdout.strip() == "no labs"
        cleaned = _as(s, "netlab", "clean", "--all")
        assert "stopped your rootless netlab" in cleaned.stdout, cleaned.stdout + cleaned.stderr
        assert _wait(lambda s=s: not throwaway.processes_of(s.uid), 10), (
            f"{s.name}'s processes stayed"
        )
    print(f"hub test: servers and lab 05 x{STUDENTS} in {lab_time:.0f} s", file=sys.stderr)


# ----------------------------------------------------- ./run.sh labs, as a student, no hub


def test_run_sh_labs_as_a_normal_user_is_rootless() -> None:
    """``./run.sh labs`` started by a user who is not root (after root's ``./run.sh setup``):
    the notebooks' kernel starts inside the user's rootless netlab, builds a lab there, and
    a JupyterLab terminal finds ``netlab`` and sees that lab."""
    if userns.inside() or shutil.which("useradd") is None:
        pytest.skip("needs the machine's root and useradd")
    if masked := userns.proc_masked():
        pytest.skip(masked)
    pytest.importorskip("websocket")
    user = throwaway.add(f"nllabs{os.getpid() % 100000}")
    server = None
    try:
        port, token = _free_port(), uuid.uuid4().hex
        server = subprocess.Popen(
            throwaway.argv_as(
                user,
                [
                    "./run.sh",
                    "labs",
                    f"--port={port}",
                    "--ip=127.0.0.1",
                    f"--IdentityProvider.token={token}",
                ],
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            assert server is not None
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            return False

        assert _wait(up, 60), "JupyterLab did not start"
        import requests

        # JupyterLab serves the user's own copy of the labs, made at this first start.
        r = requests.get(f"{url}/api/contents", headers={"Authorization": f"token {token}"})
        names = {item["name"] for item in r.json()["content"]}
        assert {"05-overlay.ipynb", "README.md"} <= names and "sanitize.cfg" not in names
        assert (
            os.stat(os.path.join(user.home, "netlab-labs", "05-overlay.ipynb")).st_uid == user.uid
        )
        kernel = Kernel(url, token, Student(user.name, user.uid, user.gid, user.home))
        try:
            out, err = kernel.run("print(open('/proc/self/uid_map').read().split()[:3])")
            assert err is None and out == f"['0', '{user.uid}', '1']\n", (out, err)
            out, err = kernel.run(
                "from netlab import Lab\nlab = Lab('lab1')\n"
                "print(lab.host().exec('hostname').stdout)"
            )
            assert err is None and out == "host\n\n", (out, err)
            assert "lab lab1: 4 namespaces" in _terminal_ls(url, token)
            out, err = kernel.run("lab.down()")
            assert err is None, err
        finally:
            kernel.close()
    finally:
        if server is not None:
            server.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(20)
        throwaway.remove(user)

"""The Jupyter set-up netlab's notebooks run with: the kernel and the terminal.

Without root, a notebook kernel must be *started* inside the user's namespaces (a running
kernel has threads, and a process with threads cannot join a user namespace; see
:mod:`netlab.kernel.userns`). So the labs' kernel, ``python3`` as the notebooks name it,
starts through netlab's launcher (``python -m netlab.rootless kernel -- ...``), which joins
them first without root and simply runs the kernel as root. A terminal opened in JupyterLab
runs ``netlab shell``: inside the same namespaces, with ``netlab`` on its PATH (a login
shell would reset PATH from /etc/profile and lose the virtual environment).

:func:`write` puts both in one folder, meant for ``JUPYTER_PATH`` (the kernel) and
``JUPYTER_CONFIG_PATH`` (the terminal), so that nothing of the user's own Jupyter set-up or
of the environment's ipykernel is changed (``./run.sh labs`` and the hub set-up point there).
"""

from __future__ import annotations

import json
import os
import sys

KERNEL_NAME = "python3"  # (what the labs' notebooks ask for: their metadata stays unchanged)
DISPLAY_NAME = "Python 3 (ipykernel)"


def kernel_argv(python: str = sys.executable) -> list[str]:
    """The kernel's command line: the launcher, then ipykernel as Jupyter starts it."""
    return [
        python,
        "-m",
        "netlab.rootless",
        "kernel",
        "--",
        python,
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
    ]


def write(folder: str, python: str = sys.executable) -> list[str]:
    """Write ``FOLDER/kernels/python3/kernel.json`` and ``FOLDER/jupyter_server_config.json``;
    return their paths."""
    bin_dir = os.path.dirname(python)
    netlab = os.path.join(bin_dir, "netlab")
    kernel_dir = os.path.join(folder, "kernels", KERNEL_NAME)
    os.makedirs(kernel_dir, exist_ok=True)
    spec = {
        "argv": kernel_argv(python),
        "display_name": DISPLAY_NAME,
        "language": "python",
        "metadata": {"debugger": True},
        # (the launcher passes Ctrl-C on: Jupyter's interrupt reaches the kernel)
        "interrupt_mode": "signal",
    }
    config = {
        "ServerApp": {
            "terminado_settings": {"shell_command": [netlab, "shell"]},
        }
    }
    written = []
    for path, obj in (
        (os.path.join(kernel_dir, "kernel.json"), spec),
        (os.path.join(folder, "jupyter_server_config.json"), config),
    ):
        tmp = f"{path}.tmp"
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write(sys.argv[1] if len(sys.argv) > 1 else "jupyter"):
        print(p)

"""The docker commands netlab understands, each printing what the docker CLI prints.

Every command is a function ``(ctx, opts, args) -> int`` (see :mod:`netlab.docker.context`)
that asks the model for what it needs, writes to ``ctx.out`` and ``ctx.err`` and returns the
exit status. Errors from the "daemon" (the model) are printed as the docker CLI prints them:
``Error response from daemon: ...`` (exit 1), or, for ``docker run``, ``docker: Error
response from daemon: ...`` and a hint (exit 125).

One module per part of Docker's CLI:

- :mod:`.containers`: ``run``, ``ps``, ``exec``, ``inspect``, ``stop``/``start``/``rm``,
  ``logs``, ``port``;
- :mod:`.networks`: ``network ls``/``create``/``inspect``/``connect``/``disconnect``/``rm``/
  ``prune``;
- :mod:`.swarm`: ``swarm init``/``join``/``join-token``, ``node ls``, ``service ...``;
- :mod:`.system`: ``version``, ``info``, ``images``.

Which words call which function, with which flags, is the table in
:mod:`netlab.docker.table`.
"""

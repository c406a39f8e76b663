"""GPU sharing and KerasTuner's chief/worker mode.

KerasTuner distributes a search through environment variables: every
process runs the same script, one with `KERASTUNER_TUNER_ID=chief` runs the
oracle (a gRPC service at `KERASTUNER_ORACLE_IP:KERASTUNER_ORACLE_PORT`) and
trains nothing; the others (`tuner0`, `tuner1`, ...) ask it for trials, train
them and report back. All share the tuner's `directory` (checkpoints and
`trial.json` files). See docs/tuning.md.
"""

import os
import socket
import sys
import time

from keras_factorvae.backend.devices import gpu_sharing_environment
from keras_factorvae.backend.devices import share_gpu_memory

CHIEF_ID = "chief"
ENV_TUNER_ID = "KERASTUNER_TUNER_ID"
ENV_ORACLE_IP = "KERASTUNER_ORACLE_IP"
ENV_ORACLE_PORT = "KERASTUNER_ORACLE_PORT"


def is_distributed(environ=None):
    """Whether the process belongs to a chief/worker search."""
    environ = os.environ if environ is None else environ
    return ENV_ORACLE_IP in environ


def is_chief(environ=None):
    """Whether the process is the chief (it only runs the oracle)."""
    environ = os.environ if environ is None else environ
    return is_distributed(environ) and CHIEF_ID in environ.get(ENV_TUNER_ID, "")


def is_worker(environ=None):
    """Whether the process is a worker of a distributed search."""
    return is_distributed(environ) and not is_chief(environ)


def configure_gpu_memory(memory_fraction=None):
    """Lets several processes share a GPU; call before the first GPU use.

    Trials run on the GPU whenever the Keras backend sees one. By default,
    TensorFlow and JAX reserve (nearly) all GPU memory at their first GPU
    use, so a second worker on the same GPU would fail. TensorFlow gets
    memory growth, JAX `XLA_PYTHON_CLIENT_PREALLOCATE=false` (and the memory
    fraction) unless the environment already says otherwise, PyTorch
    nothing (`keras_factorvae.backend.devices` has the details). The worker
    launcher (`examples/launch_tuning_workers.py`) sets JAX's variables in
    the workers' environment, which is the safe place.

    Args:
        memory_fraction: optional fraction of GPU memory (0, 1] a JAX
            process may use (`XLA_PYTHON_CLIENT_MEM_FRACTION`); ignored by
            the other backends.

    Returns:
        A dict saying what was done: `{"backend": ..., "gpus": n or None,
        "memory_growth": bool, "env": {...}}`.

    Example:

    ```python
    from keras_factorvae.tuning import configure_gpu_memory
    configure_gpu_memory()   # before building models
    ```
    """
    return share_gpu_memory(memory_fraction)


def find_free_port(host="127.0.0.1"):
    """A TCP port free on `host` now (for `KERASTUNER_ORACLE_PORT`)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def visible_gpus(environ=None):
    """GPU ids visible to this process, without importing a framework.

    `CUDA_VISIBLE_DEVICES` when set (an empty value means none), else the
    GPUs `nvidia-smi -L` lists, else none.
    """
    environ = os.environ if environ is None else environ
    if "CUDA_VISIBLE_DEVICES" in environ:
        value = environ["CUDA_VISIBLE_DEVICES"].strip()
        return [g.strip() for g in value.split(",") if g.strip()] if value else []
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True,
                             text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.splitlines())
            if line.startswith("GPU ")]


def process_environments(num_workers, gpus=(), workers_per_gpu=1,
                         host="127.0.0.1", port=None, memory_fraction=None):
    """The environments of one chief and `num_workers` workers.

    Worker `i` gets GPU `gpus[i // workers_per_gpu]` alone
    (`CUDA_VISIBLE_DEVICES`), JAX's preallocation off, and with several
    workers per GPU a JAX memory fraction of `0.9 / workers_per_gpu`
    (unless `memory_fraction` says otherwise). The chief sees no GPU: it
    only runs the oracle.

    Args:
        num_workers: number of worker processes (>= 1).
        gpus: GPU ids; empty for CPU-only workers.
        workers_per_gpu: workers sharing each GPU.
        host, port: the oracle's address; `port=None` picks a free port.
        memory_fraction: JAX memory fraction per worker.

    Returns:
        A list of `(tuner_id, env_updates)`, the chief first.

    Example:

    >>> process_environments(2, gpus=["0", "1"], port=8000)[1]
    ('tuner0', {'KERASTUNER_TUNER_ID': 'tuner0', ..., 'CUDA_VISIBLE_DEVICES': '0', ...})
    """
    num_workers = int(num_workers)
    if num_workers < 1:
        raise ValueError(f"`num_workers` must be >= 1, received {num_workers}.")
    gpus = list(gpus)
    workers_per_gpu = int(workers_per_gpu)
    if gpus and num_workers > len(gpus) * workers_per_gpu:
        raise ValueError(
            f"{num_workers} workers do not fit on {len(gpus)} GPU(s) with "
            f"{workers_per_gpu} worker(s) per GPU."
        )
    port = find_free_port(host) if port is None else int(port)
    common = {ENV_ORACLE_IP: host, ENV_ORACLE_PORT: str(port)}
    chief = dict(common, **{ENV_TUNER_ID: CHIEF_ID, "CUDA_VISIBLE_DEVICES": ""})
    envs = [(CHIEF_ID, chief)]
    if memory_fraction is None and workers_per_gpu > 1:
        memory_fraction = 0.9 / workers_per_gpu
    for i in range(num_workers):
        tuner_id = f"tuner{i}"
        env = dict(common, **{ENV_TUNER_ID: tuner_id},
                   **gpu_sharing_environment(memory_fraction))
        if gpus:
            env["CUDA_VISIBLE_DEVICES"] = gpus[i // workers_per_gpu]
        envs.append((tuner_id, env))
    return envs


def serve_oracle(tuner, num_workers=None, poll_interval=0.5):
    """Runs the chief's oracle service until the search is over.

    What `tuner.search` does on the chief, with two changes: it polls for
    the end every `poll_interval` seconds (KerasTuner 1.4 sleeps 20 s
    between checks once a worker has been told to stop), and with
    `num_workers` it waits until that many workers have asked for a trial,
    so that a worker which starts late is not left waiting on a chief that
    has already exited (a worker retries for up to an hour).

    Args:
        tuner: the chief's tuner (`KERASTUNER_TUNER_ID=chief`).
        num_workers: number of workers expected, or `None`.
        poll_interval: seconds between checks for the end of the search.

    Example:

    ```python
    if is_chief():
        serve_oracle(tuner, num_workers=2)
    ```
    """
    from concurrent import futures

    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief

    if not is_chief():
        raise RuntimeError(
            "serve_oracle runs on the chief only "
            f"({ENV_TUNER_ID}=chief and {ENV_ORACLE_IP} set)."
        )
    oracle = tuner.oracle
    seen = set()

    class Servicer(oracle_chief.OracleServicer):
        def CreateTrial(self, request, context):
            seen.add(request.tuner_id)
            return super().CreateTrial(request, context)

    tuner.save()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = Servicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    address = f"{os.environ[ENV_ORACLE_IP]}:{os.environ[ENV_ORACLE_PORT]}"
    if server.add_insecure_port(address) == 0:
        raise RuntimeError(f"The oracle could not listen on {address}.")
    server.start()
    print(f"Oracle listening on {address}", file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(poll_interval)
            if (servicer.stop_triggered
                    and oracle_chief.exit_chief(oracle)
                    and (num_workers is None or len(seen) >= num_workers)):
                break
    finally:
        # Lets the last "stop" answer reach its worker.
        server.stop(grace=2).wait()

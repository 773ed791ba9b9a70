"""Where an idle socket's memory goes in Herald's edge worker: a tracemalloc
snapshot diff and a count of live objects by type, taken inside the one
gunicorn gevent worker before and after N sockets open (the method behind
docs/performance.md, "Sockets"). Slow (tracemalloc keeps a traceback per
allocation): a few hundred sockets are enough.

    .venv/bin/python -m tests.load.socket_memory_profile [-n 500] [--top 25]

The worker runs gunicorn.conf.py plus a post_worker_init (this module's
`gunicorn_config`) that starts tracemalloc and takes a snapshot whenever
the trigger file appears.
"""

from __future__ import annotations

import argparse
import pickle
import random
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

from db.migrate import upgrade
from tests.load.bench_oneway import create_users, stack_env
from tests.load.bench_sockets import WARM_UP, _Clients, rss_kib, worker_pid
from tests.support import services
from tests.support.processes import BIN, ROOT, Process, free_port, wait_http

CONFIG = '''
exec(open({conf!r}).read())
_herald_post_worker_init = post_worker_init


def post_worker_init(worker):
    _herald_post_worker_init(worker)
    import gc, os, pickle, tracemalloc
    from collections import Counter
    import gevent
    tracemalloc.start(12)

    def watch():
        n = 0
        while True:
            gevent.sleep(0.3)
            if os.path.exists({trigger!r}):
                os.remove({trigger!r})
                gc.collect()
                tracemalloc.take_snapshot().dump(os.path.join({out!r}, f"snapshot-{{n}}.tracemalloc"))
                types = Counter(f"{{getattr(type(o), '__module__', '?')}}.{{type(o).__qualname__}}" for o in gc.get_objects())
                with open(os.path.join({out!r}, f"types-{{n}}.pickle"), "wb") as f:
                    pickle.dump(types, f)
                n += 1
    gevent.spawn(watch)
'''


def _snapshot(trigger: Path, out: Path, n: int) -> tuple[tracemalloc.Snapshot, Counter]:
    trigger.touch()
    types_file = out / f"types-{n}.pickle"
    deadline = time.monotonic() + 120
    while not types_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    return tracemalloc.Snapshot.load(str(out / f"snapshot-{n}.tracemalloc")), pickle.loads(types_file.read_bytes())


def profile(sockets: int, top: int) -> list[str]:
    out = Path(tempfile.mkdtemp(prefix="herald-socket-profile-"))
    trigger = out / "trigger"
    conf = out / "gunicorn_profile.conf.py"
    conf.write_text(CONFIG.format(conf=str(ROOT / "gunicorn.conf.py"), trigger=str(trigger), out=str(out)))
    database_url = services.create_database()
    broker_url = services.create_vhost()
    process = clients = None
    try:
        upgrade(database_url)
        env = stack_env(database_url, broker_url, out / "data")
        _, _, tokens = create_users(database_url, env, WARM_UP + sockets, random.randrange(1_000, 1_000_000) * 1_000_000)
        port = free_port()
        process = Process("gunicorn", [str(BIN / "gunicorn"), "-c", str(conf), "-w", "1", "-b", f"127.0.0.1:{port}",
                                       "web.wsgi:app"], env, out)
        wait_http(f"http://127.0.0.1:{port}/healthz", process=process)
        pid = worker_pid(process.popen.pid)
        clients = _Clients(f"ws://127.0.0.1:{port}", 1)
        clients.open(tokens[:WARM_UP])
        time.sleep(2)
        before, types_before = _snapshot(trigger, out, 0)
        rss_before = rss_kib(pid)
        opened, _ = clients.open(tokens[WARM_UP:])
        time.sleep(3)
        after, types_after = _snapshot(trigger, out, 1)
        rss_after = rss_kib(pid)
        lines = [f"{opened} sockets: RSS +{(rss_after - rss_before) / opened:.1f} KiB per socket (under tracemalloc)"]
        stats = after.compare_to(before, "traceback")
        traced = sum(s.size_diff for s in stats)
        lines.append(f"traced Python allocations: +{traced / 1024 / opened:.1f} KiB per socket; largest, by traceback:")
        for stat in stats[:top]:
            frames = [f"{f.filename.rsplit('site-packages/', 1)[-1].replace(str(ROOT) + '/', '')}:{f.lineno}"
                      for f in stat.traceback if "tracemalloc" not in f.filename][-4:]
            lines.append(f"  {stat.size_diff / opened:8.0f} B/socket  {stat.count_diff / opened:5.1f} blocks  "
                         + " ← ".join(reversed(frames)))
        lines.append("live objects per socket, by type:")
        grown = Counter({k: types_after[k] - types_before.get(k, 0) for k in types_after})
        for name, n in grown.most_common(top):
            lines.append(f"  {n / opened:6.2f}  {name}")
        return lines
    finally:
        if clients is not None:
            clients.close()
        if process is not None:
            process.stop()
        services.drop_database(database_url)
        services.delete_vhost(broker_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--sockets", type=int, default=500)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print("\n".join(profile(args.sockets, args.top)))


if __name__ == "__main__":
    main()

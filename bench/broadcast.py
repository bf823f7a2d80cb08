"""Broadcast: a 100,000-recipient campaign at Meta's top throughput, through each HTTP client.

The whole box runs as its units run it (Redis, inbox writer, webhook listener, worker,
web UI, scheduler), beside the simulator set as Meta's upgraded number: 1,000 messages/s
(130429 above), 150-300 ms per call, statuses back as webhooks (sent, delivered) to the
listener, ingested by the worker. A MARKETING template with two per-recipient values goes
to every recipient through the Marketing Messages API. The campaign is started through
the service the web page calls; the scheduler hands it to the worker's actor. Measured:
achieved send rate (accepted at the simulator / the span from its first to its last
accepted send) as a fraction of the limit, the worst one-second window the simulator
saw, CPU per message of each process, the worker's peak memory.

Each HTTP client runs the same campaign (`broadcast.http_client`); a last run repeats
the default client with field encryption off in the runner (the recipients' numbers and
values given in the clear, nothing opened: a patched runner, in the bench only), for the
price of the encryption.

    .venv/bin/python bench/broadcast.py [--recipients 100000] [--limit 1000]
                                        [--latency 150,300] [--clients aiohttp,httpx]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from procs import ROOT, Stack, free_port, load_note, machine_facts, scratch_dir

from appliance.auth.permissions import BOX_ADMIN
from appliance.automation import audience, campaigns, template_book
from appliance.clock import utcnow
from appliance.config import Settings, load_settings
from appliance.inbox.customers import create_customer
from appliance.privacy import consent
from appliance.redis_server import find_redis_server, redis_argv
from appliance.runtime import open_runtime
from appliance.store import broadcast as store
from appliance.store.db import db
from simulator.config import new_config, write_config

HERE = Path(__file__).resolve().parent
TEMPLATE = "pengingat_pembayaran"
FIRST_NUMBER = 6281100000000


@dataclass
class Result:
    name: str
    sent: int
    seconds: float
    worst_second: int
    cores: dict[str, float]
    worker_rss_mb: float
    unknown: int

    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def box_env(base: Path, sim_port: int, hook_port: int, limit: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEMBOK_")}
    sockets = base / "sockets"
    sockets.mkdir()
    env.update(GEMBOK_DATA_DIR=str(base / "var"), GEMBOK_SIMULATOR_ENABLED="false",
               GEMBOK_WHATSAPP_API_BASE_URL=f"http://127.0.0.1:{sim_port}",
               GEMBOK_WEBHOOK_TLS="false", GEMBOK_WEBHOOK_PORT=str(hook_port),
               GEMBOK_SIMULATOR_PORT=str(sim_port),
               GEMBOK_WEB_SOCKET=str(sockets / "web.sock"),
               GEMBOK_BROADCAST_THROUGHPUT=str(limit), GEMBOK_BROADCAST_QUIET_START="00:00",
               GEMBOK_BROADCAST_QUIET_END="00:00", PYTHONUNBUFFERED="1")
    return env


def sim_config_path(settings_env: dict[str, str]) -> Path:
    return Path(settings_env["GEMBOK_DATA_DIR"]).parent / "simulator.json"


def simulator_config(env: dict[str, str], hook_port: int, limit: int,
                     latency: tuple[int, int]) -> dict[str, str]:
    """Meta as the campaign meets it, and the credentials the box is given for it."""
    config = dataclasses.replace(
        new_config(f"http://127.0.0.1:{hook_port}/webhooks/whatsapp"), throughput_mps=limit,
        messaging_limit=None, latency_ms=latency, server_threads=512,
        auto_deliver_seconds=1.0)
    write_config(sim_config_path(env), config)
    return {"GEMBOK_WHATSAPP_APP_SECRET": config.app_secret,
            "GEMBOK_WHATSAPP_VERIFY_TOKEN": config.verify_token,
            "GEMBOK_WHATSAPP_ACCESS_TOKEN": config.access_token,
            "GEMBOK_WHATSAPP_PHONE_NUMBER_ID": config.phone_number_id,
            "GEMBOK_WHATSAPP_WABA_ID": config.waba_id,
            "control": config.control_token}


def start(stack: Stack, settings: Settings, sim_port: int, clear: Path | None = None) -> None:
    """The box's processes; with `clear`, the worker whose runner opens nothing."""
    py = sys.executable
    config = sim_config_path({"GEMBOK_DATA_DIR": str(settings.data_dir)})
    stack.start(["env", f"GEMBOK_SIMULATOR_CONFIG={config}", py, "-m", "simulator"],
                name="simulator")
    stack.start(redis_argv(find_redis_server(), settings.redis_socket), name="redis")
    stack.wait_path(settings.redis_socket)
    stack.start([py, "-m", "appliance", "inbox-writer"], name="writer")
    stack.wait_path(settings.inbox_writer_socket)
    stack.start([py, str(HERE / "plain_worker.py"), str(clear)] if clear else
                [py, "-m", "appliance", "worker"], name="worker")
    stack.wait_path(settings.run_dir / "worker.ready")
    stack.start([py, "-m", "webui.serve", "webhook"], name="listener")
    stack.start([py, "-m", "webui.serve", "web"], name="web")
    stack.wait_path(settings.web.socket)  # type: ignore[arg-type]
    stack.start([py, "-m", "appliance", "scheduler"], name="scheduler")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{sim_port}/healthz", timeout=1)
            return
        except httpx.TransportError:
            stack.check_alive()
            time.sleep(0.1)
    raise SystemExit("the simulator did not come up")


def populate(settings: Settings, sim: httpx.Client, count: int) -> None:
    """`count` customers at Meta and on the box, each with a marketing opt-in on record."""
    resp = sim.post("/_sim/customers/bulk", json={"first": str(FIRST_NUMBER), "count": count})
    resp.raise_for_status()
    rt = open_runtime(settings)
    started = time.perf_counter()
    ids = []
    with db.atomic():
        for n in range(count):
            ids.append(create_customer(rt, name=f"Pelanggan {n}", phone=f"+{FIRST_NUMBER + n}",
                                       actor="system", strict_phone=False))
        consent.record_many(consent.Entry(cid, "marketing", True, "import", f"bench/{cid}")
                            for cid in ids)
    print(f"  {count:,} customers made and opted in, in {time.perf_counter() - started:.0f} s",
          flush=True)
    template_book.sync(rt)
    db.close()


def customer_ids(settings: Settings) -> list[int]:
    open_runtime(settings)
    ids = [int(r[0]) for r in store.Customer.select(store.Customer.id).tuples()]
    db.close()
    return ids


def campaign(settings: Settings, name: str) -> int:
    rt = open_runtime(settings)
    t = next(t for t in template_book.all_templates() if t.name == TEMPLATE)
    with db.atomic():
        cid = campaigns.create(rt, BOX_ADMIN, name=name, template_id=t.id, parameters=[
            {"name": "1", "source": "name"}, {"name": "2", "source": "text",
                                              "value": "Rp150.000"}], audience_filter=None)
        ids = [int(r[0]) for r in store.Customer.select(store.Customer.id).tuples()]
        audience.prepare(rt, cid, ids, t, campaigns.parameters_of(
            store.Campaign.get_by_id(cid)), audience.Filter())
    db.close()
    return cid


def run_one(name: str, stack: Stack, settings: Settings, sim: httpx.Client,
            recipients: int) -> Result:
    cid = campaign(settings, name)
    sim.delete("/_sim/sends/rate")
    rt = open_runtime(settings)
    before = stack.cpu()
    worker = next(p for p in stack.procs if stack.names[p.pid] == "worker")
    peak = 0.0
    campaigns.start(rt, BOX_ADMIN, cid)
    db.close()
    while True:
        time.sleep(1.0)
        stack.check_alive()
        peak = max(peak, _rss_mb(worker.pid))
        counts = store.counts(cid)
        db.close()
        left = counts.get("queued", 0) + counts.get("sending", 0)
        if not left:
            break
    rate = sim.get("/_sim/sends/rate").json()
    after = stack.cpu()
    sent = int(rate["accepted"])
    span = float(rate["last"]) - float(rate["first"])
    cores = {k: (after.get(k, 0.0) - before.get(k, 0.0)) for k in after}
    counts = store.counts(cid)
    db.close()
    return Result(name, sent, span, int(rate["max_in_any_second"]), cores, peak,
                  counts.get("unknown", 0))


def _rss_mb(pid: int) -> float:
    try:
        proc = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20
    except psutil.NoSuchProcess:
        return 0.0


def report(results: list[Result], limit: int, recipients: int) -> None:
    print("\n| run | sent | achieved/s | of the limit | worst second | CPU ms per message"
          " (worker, simulator, listener, writer) | worker peak RSS | unknown |")
    print("|---|---:|---:|---:|---:|---|---:|---:|")
    base = results[0]
    for r in results:
        per = {k: 1000 * v / max(r.sent, 1) for k, v in r.cores.items()}
        cpu = ", ".join(f"{per.get(k, 0):.2f}" for k in ("worker", "simulator", "listener",
                                                           "writer"))
        print(f"| {r.name} | {r.sent:,} | {r.rate():,.0f} | {r.rate() / limit:.3f} | "
              f"{r.worst_second:,} | {cpu} | {r.worker_rss_mb:.0f} MB | {r.unknown} |")
    for r in results[1:]:
        print(f"{r.name} / {base.name}: rate {r.rate() / max(base.rate(), 1):.2f}, worker CPU "
              f"per message {_per(r, 'worker') / max(_per(base, 'worker'), 1e-9):.2f}")


def _per(r: Result, name: str) -> float:
    return r.cores.get(name, 0.0) / max(r.sent, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--latency", default="150,300")
    parser.add_argument("--clients", default="aiohttp,httpx")
    parser.add_argument("--no-plain", action="store_true",
                        help="skip the run with field encryption off")
    args = parser.parse_args()
    low, high = (int(x) for x in args.latency.split(","))
    print(f"# Broadcast: {args.recipients:,} recipients, limit {args.limit}/s, {low}-{high} ms "
          f"per call\n{machine_facts()}\n{load_note()}", flush=True)
    results: list[Result] = []
    with scratch_dir("gembok-broadcast-") as base:
        sim_port, hook_port = free_port(), free_port()
        env = box_env(base, sim_port, hook_port, args.limit)
        creds = simulator_config(env, hook_port, args.limit, (low, high))
        control = creds.pop("control")
        env.update(creds)
        subprocess.run([sys.executable, "-m", "appliance", "init"], env=env, check=True,
                       cwd=ROOT, stdout=subprocess.DEVNULL)
        settings = load_settings({k: v for k, v in env.items() if k.startswith("GEMBOK_")})
        settings.run_dir.mkdir(exist_ok=True)
        os.environ.update({k: v for k, v in env.items() if k.startswith("GEMBOK_")})
        sim = httpx.Client(base_url=f"http://127.0.0.1:{sim_port}", timeout=120,
                           headers={"X-Sim-Token": control})
        for client in args.clients.split(","):
            env["GEMBOK_BROADCAST_HTTP_CLIENT"] = client
            (base / "logs").mkdir(exist_ok=True)
            with Stack(base / "logs", env) as stack:
                start(stack, settings, sim_port)
                sim.post("/_sim/webhooks/mode", json={"batch": 100})
                if not results:
                    populate(settings, sim, args.recipients)
                results.append(run_one(client, stack, settings, sim, args.recipients))
                print(f"  {client}: {results[-1].rate():,.0f}/s", flush=True)
        if not args.no_plain:
            env["GEMBOK_BROADCAST_HTTP_CLIENT"] = args.clients.split(",")[0]
            clear = base / "clear.json"
            clear.write_text(json.dumps({
                cid: [f"+{FIRST_NUMBER + n}", {"1": f"Pelanggan {n}", "2": "Rp150.000"}]
                for n, cid in enumerate(sorted(customer_ids(settings)))}))
            with Stack(base / "logs", env) as stack:
                start(stack, settings, sim_port, clear)
                sim.post("/_sim/webhooks/mode", json={"batch": 100})
                results.append(run_one("encryption off", stack, settings, sim,
                                       args.recipients))
        sim.close()
    report(results, args.limit, args.recipients)
    print(f"\nrun at {utcnow():%Y-%m-%d %H:%M} UTC; {load_note()}")


if __name__ == "__main__":
    main()

"""Speed of the lasim model: prints one table of medians, measured in one run.

Figures (targets from issue 10, "a compiled month"):

(a) the default scenario, 120 months, one run including construction of the model
    from its (already loaded) Scenario: <= 5 ms median on one core, and >= 8x
    cheaper per agent-step than Mesa's own ``virus_on_network`` example with as
    many nodes, timed here in the same run (per agent-step: the 120 steps of a
    built model on both sides, since the example's constructor is not timed;
    the ratio with lasim's construction counted is printed below it);
(b) cost per agent-step at 10,000 stakeholders: <= 30 ns, and >= 40x cheaper than
    ``virus_on_network`` at the same size in the same run;
(c) 1k, 10k, 100k and 1M stakeholders x 120 months (construction + run): 100k
    <= 0.5 s; 1M <= 8 s and <= 3 GiB peak memory. Each size runs in its own
    subprocess so its peak resident memory is its own;
(d) compile time of the numba kernels (a fresh process with an empty cache,
    first model run) and warm start (a fresh process whose cache is filled:
    import plus first run), both printed, neither part of the figures above.

Times are ``time.perf_counter`` medians over repeats; ``time.process_time``
(CPU) medians are shown next to them because other processes may share the
machine's cores. A figure passes on wall time; "PASS (cpu)" means only its
CPU time meets the target (the machine was busy). Usage::

    .venv/bin/python benchmarks/bench_model.py            # full table (a few minutes)
    .venv/bin/python benchmarks/bench_model.py --quick    # smoke run, few repeats
"""

from __future__ import annotations

import os

# one core: numpy/scipy must not spread work over threads (set before they are imported)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from scaled import scenario_with_about  # noqa: E402

from model.alliance import AllianceModel  # noqa: E402
from model.scenario import Scenario, load_scenario  # noqa: E402

GiB = 1024**3


@dataclass
class Timing:
    """Medians of repeated measurements."""

    wall: float
    cpu: float
    repeats: int


def measure(fn: Callable[[int], object], repeats: int, warmup: int = 1) -> Timing:
    """Median wall and CPU seconds of ``fn(seed)`` over ``repeats`` calls (after ``warmup`` calls)."""
    for i in range(warmup):
        fn(10_000 + i)
    walls, cpus = [], []
    for seed in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn(seed)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return Timing(statistics.median(walls), statistics.median(cpus), repeats)


# --------------------------------------------------------------------------- (b) Mesa's virus_on_network


def virus_model_class():
    """Mesa's ``VirusOnNetwork``, built fairly.

    Its constructor (Mesa 3.5.1) does two things that are set-up, not model:
    ``nx.erdos_renyi_graph(n, p)`` without a seed (two models with the same rng
    differ; the O(n^2) generator takes seconds at 10,000 nodes), and
    ``Network(graph, ...)`` whose default ``layout=nx.spring_layout`` lays the
    graph out, unseeded, in O(n^2) (4 s at 1,000 nodes, minutes at 10,000). This
    subclass hands the example's module, for the duration of the constructor
    only, a networkx stand-in whose ``erdos_renyi_graph`` is
    ``nx.fast_gnp_random_graph`` (the same G(n, p) distribution) seeded from the
    model's own generator, and a ``Network`` with ``layout=None``. ``step()``,
    the agents and the DataCollector are the example's own.
    """
    import types

    import networkx as nx
    from mesa.discrete_space import Network
    from mesa.examples.basic.virus_on_network import model as virus

    class SeededVirusOnNetwork(virus.VirusOnNetwork):
        def __init__(self, *args, **kwargs) -> None:
            me = self

            def seeded_gnp(n: int, p: float):
                # called inside VirusOnNetwork.__init__, after Model.__init__ has made me.rng
                return nx.fast_gnp_random_graph(n, p, seed=int(me.rng.integers(2**31)))

            def network_without_layout(graph, **kw):
                return Network(graph, layout=None, **kw)

            patched = {"nx": types.SimpleNamespace(erdos_renyi_graph=seeded_gnp), "Network": network_without_layout}
            saved = {k: getattr(virus, k) for k in patched}
            for k, v in patched.items():
                setattr(virus, k, v)
            try:
                super().__init__(*args, **kwargs)
            finally:
                for k, v in saved.items():
                    setattr(virus, k, v)

    return SeededVirusOnNetwork


def per_agent_step_lasim(n_target: int | Scenario, repeats: int) -> tuple[Timing, int, int]:
    """Median time of 120 months of a built model (construction, as ``virus_on_network``'s, left out)."""
    scenario = n_target if isinstance(n_target, Scenario) else scenario_with_about(n_target)
    months = scenario.parameters.horizon_months
    models: dict[int, AllianceModel] = {}

    def run(seed: int) -> None:
        models[seed].run()

    walls, cpus = [], []
    for seed in range(repeats + 1):
        models[seed] = AllianceModel(scenario, rng=seed)  # construction is not part of a step
        w0, c0 = time.perf_counter(), time.process_time()
        run(seed)
        if seed > 0:  # the first is a warm-up
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        n = models.pop(seed).world.n
    return Timing(statistics.median(walls), statistics.median(cpus), repeats), n, months


def per_agent_step_virus(n: int, steps: int, repeats: int) -> Timing:
    cls = virus_model_class()
    walls, cpus = [], []
    for seed in range(repeats + 1):
        m = cls(num_nodes=n, rng=seed)
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            m.step()
        if seed > 0:
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
    return Timing(statistics.median(walls), statistics.median(cpus), repeats)


# --------------------------------------------------------------------------- (c) one size per subprocess


def child(n_target: int, repeats: int) -> None:
    """Measure construction + 120 months at one size; print JSON (run in a subprocess)."""
    scenario = scenario_with_about(n_target)
    # load the compiled kernels from numba's cache first: a fresh process's first run
    # pays that (row (d), "warm start"), which is not part of a run's cost
    AllianceModel(load_scenario("default"), rng=0).run()
    walls, cpus, builds = [], [], []
    n = 0
    for seed in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        m = AllianceModel(scenario, rng=seed)
        builds.append(time.perf_counter() - w0)
        m.run()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        n = m.world.n
        del m
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    print(json.dumps({"n": n, "months": scenario.parameters.horizon_months, "wall": statistics.median(walls),
                      "cpu": statistics.median(cpus), "build": statistics.median(builds), "peak": peak,
                      "repeats": repeats}))


#: run by a fresh interpreter: the benchmark script itself has imported the model already
STARTUP = """
import json, time
w0 = time.perf_counter()
from model.alliance import AllianceModel
from model.scenario import load_scenario
imported = time.perf_counter()
AllianceModel(load_scenario("default"), rng=0).run()
done = time.perf_counter()
print(json.dumps({"import": imported - w0, "first_run": done - imported, "total": done - w0}))
"""


def run_startup(cache_dir: str) -> dict:
    """Import and one default run in a fresh interpreter whose numba cache is ``cache_dir``."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir,
           "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", STARTUP], capture_output=True, text=True, check=True, env=env,
                         cwd=HERE.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_child(n_target: int, repeats: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(n_target), "--repeats", str(repeats)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- table


def status(value: float, cpu: float | None, target: float, at_most: bool) -> tuple[str, str]:
    ok = value <= target if at_most else value >= target
    ratio = value / target
    if ok:
        return f"{ratio:.2f}", "PASS"
    if cpu is not None and (cpu <= target if at_most else cpu >= target):
        return f"{ratio:.2f}", "PASS (cpu)"
    return f"{ratio:.2f}", "FAIL"


def fmt_time(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    if s >= 1e-6:
        return f"{s * 1e6:.2f} us"
    return f"{s * 1e9:.0f} ns"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="few repeats: a smoke run, not a measurement")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--repeats", type=int, default=None, help="repeats of the default run (a)")
    ap.add_argument("--no-million", action="store_true", help="leave out the 1,000,000-organisation row")
    args = ap.parse_args(argv)
    if args.child is not None:
        child(args.child, args.repeats or 1)
        return 0

    quick = args.quick
    load_before = os.getloadavg()[0]
    rep_a = args.repeats or (5 if quick else 31)
    # the same 120 steps in quick mode: the epidemic makes early steps dearer, so fewer would flatter lasim
    rep_b, rep_virus, virus_steps = (1, 1, 120) if quick else (5, 3, 120)
    rep_c = {1_000: 3 if quick else 11, 10_000: 1 if quick else 5, 100_000: 1 if quick else 3,
             1_000_000: 1}
    sizes_c = (1_000, 10_000, 100_000) if args.no_million else (1_000, 10_000, 100_000, 1_000_000)

    rows: list[tuple[str, str, str, str, str, str]] = []
    default = load_scenario("default")

    # (d) first, in fresh processes: compile with an empty cache, then a warm start from it
    import tempfile

    with tempfile.TemporaryDirectory(prefix="lasim-numba-") as cache:
        cold = run_startup(cache)
        warm = run_startup(cache)

    # (a)
    a = measure(lambda seed: AllianceModel(default, rng=seed).run(), rep_a, warmup=2)
    rows.append(("(a) default, 120 months, incl. construction", "<= 5 ms", fmt_time(a.wall), fmt_time(a.cpu),
                 *status(a.wall, a.cpu, 0.005, at_most=True)))
    # per agent-step: the months alone on both sides (as in (b)); the example's constructor is
    # not timed, so lasim's is not either. With it, lasim's ratio is printed too, without a verdict.
    steps_a, n_a, months_a = per_agent_step_lasim(default, rep_virus if quick else 31)
    va = per_agent_step_virus(n_a, virus_steps, rep_virus if quick else 11)
    lasim_a, lasim_a_cpu = steps_a.wall / (n_a * months_a), steps_a.cpu / (n_a * months_a)
    virus_a, virus_a_cpu = va.wall / (n_a * virus_steps), va.cpu / (n_a * virus_steps)
    rows.append((f"(a) virus_on_network / lasim per agent-step, {n_a} agents", ">= 8x", f"{virus_a / lasim_a:.1f}x",
                 f"{virus_a_cpu / lasim_a_cpu:.1f}x",
                 *status(virus_a / lasim_a, virus_a_cpu / lasim_a_cpu, 8.0, at_most=False)))
    with_build, with_build_cpu = a.wall / (n_a * months_a), a.cpu / (n_a * months_a)
    rows.append(("(a)   the same, lasim's construction counted", "", f"{virus_a / with_build:.1f}x",
                 f"{virus_a_cpu / with_build_cpu:.1f}x", "", ""))

    # (b)
    lb, n_b, months = per_agent_step_lasim(10_000, rep_b)
    vb = per_agent_step_virus(n_b, virus_steps, rep_virus)
    lasim_cost, lasim_cpu = lb.wall / (n_b * months), lb.cpu / (n_b * months)
    virus_cost, virus_cpu = vb.wall / (n_b * virus_steps), vb.cpu / (n_b * virus_steps)
    rows.append((f"(b) lasim, per agent-step, {n_b:,} agents", "<= 30 ns", fmt_time(lasim_cost), fmt_time(lasim_cpu),
                 *status(lasim_cost, lasim_cpu, 30e-9, at_most=True)))
    rows.append((f"(b) virus_on_network, per agent-step, {n_b:,}", "", fmt_time(virus_cost), fmt_time(virus_cpu),
                 "", ""))
    rows.append(("(b) virus_on_network / lasim", ">= 40x", f"{virus_cost / lasim_cost:.1f}x",
                 f"{virus_cpu / lasim_cpu:.1f}x", *status(virus_cost / lasim_cost, virus_cpu / lasim_cpu, 40.0,
                                                           at_most=False)))

    # (c)
    sizes = {}
    for n_target in sizes_c:
        r = run_child(n_target, rep_c[n_target])
        sizes[n_target] = r
        per = r["wall"] / (r["n"] * r["months"])
        label = f"(c) {r['n']:,} x {r['months']} months ({fmt_time(per)}/agent-month)"
        if n_target == 100_000:
            rows.append((label, "<= 0.5 s", fmt_time(r["wall"]), fmt_time(r["cpu"]),
                         *status(r["wall"], r["cpu"], 0.5, at_most=True)))
        elif n_target == 1_000_000:
            rows.append((label, "<= 8 s", fmt_time(r["wall"]), fmt_time(r["cpu"]),
                         *status(r["wall"], r["cpu"], 8.0, at_most=True)))
            rows.append((f"(c) {r['n']:,}: peak memory (max RSS)", "<= 3 GiB", f"{r['peak'] / GiB:.2f} GiB", "",
                         *status(r["peak"] / GiB, None, 3.0, at_most=True)))
        else:
            rows.append((label, "", fmt_time(r["wall"]), fmt_time(r["cpu"]), "", ""))

    # (d)
    rows.append(("(d) compile: fresh process, empty cache (first run)", "printed", fmt_time(cold["first_run"]), "",
                 "", ""))
    rows.append(("(d) warm start: fresh process, import + first run", "printed", fmt_time(warm["total"]), "", "", ""))

    head = ("figure", "target", "measured", "cpu", "ratio", "result")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(f"lasim benchmark: Python {platform.python_version()}, {os.cpu_count()} cores, one thread; "
          f"medians over repeats{' (QUICK: smoke run, too few repeats to trust)' if quick else ''}")
    # other jobs on the machine inflate wall and CPU times alike: say how busy it was
    print(f"1-minute load average: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(line.format(*head))
    print(line.format(*("-" * w for w in widths)))
    for r in rows:
        print(line.format(*r))
    print(f"\nrepeats: (a) {a.repeats}, virus {va.repeats} x {virus_steps} steps; (b) lasim {lb.repeats} x "
          f"{months} months, virus {vb.repeats} x {virus_steps} steps; "
          f"(c) {', '.join(f'{k:,}: {v["repeats"]}' for k, v in sizes.items())}")
    for r in sizes.values():
        print(f"(c) construction of the {r['n']:,}-agent model: {fmt_time(r['build'])} of {fmt_time(r['wall'])}")
    print(f"(d) import: {fmt_time(cold['import'])} cold, {fmt_time(warm['import'])} warm; first run "
          f"{fmt_time(cold['first_run'])} cold, {fmt_time(warm['first_run'])} warm")
    return 0


if __name__ == "__main__":
    sys.exit(main())

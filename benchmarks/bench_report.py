"""The report of ``benchmarks/suite.py``: ``benchmarks.md`` (tables, machine, command, tuning
guide) and its PNG plots (matplotlib, no display needed).

Figures are medians over rounds with the spread (min-max) in brackets; throughput in MB/s
(10^6 bytes/s), times in ms, CPU in seconds per GiB sent, memory in MiB.
"""

from __future__ import annotations

import datetime
import math
import os
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from suite import Plan, Sample

MiB = 1024 * 1024
X = "\N{MULTIPLICATION SIGN}"
DASH = "\N{EN DASH}"
SERVE = "serve"
SERVE_1MIB = "serve 1 MiB chunks"
NGINX = "nginx proxy_pass"
PYTHON_RUNTIME = "lambda runtime (Python)"
NODE = "Node.js design"
EMULATOR = "Function URL emulator"
SCENARIOS = (
    "single stream",
    "concurrent",
    "runtime alone",
    "cold start",
    "first small invocation",
    "init breakdown",
    "relay ceiling",
    "backends",
)
"""Every scenario the suite runs; each must produce numbers."""
INIT_PHASE_LABELS = (
    ("interpreter start", "started"),
    ("imports", "imported"),
    ("settings", "configured"),
    ("create_app", "built"),
    ("S3 client and warm-up", "ready"),
)
"""The INIT phases of ``benchmarks/init_phases.py``: a label, and the moment that ends it."""
PLOTS = "benchmarks"
"""The plots' directory, under the report's."""


# --- picking and summarising samples ---------------------------------------------------------------


def pick(
    samples: Sequence[Sample], scenario: str, target: str, size: int | None = None, concurrency: int | None = None
) -> list[Sample]:
    """The samples of one scenario and target, optionally of one size and concurrency."""
    return [
        s
        for s in samples
        if s.scenario == scenario
        and s.target == target
        and (size is None or s.size == size)
        and (concurrency is None or s.concurrency == concurrency)
    ]


def values(samples: Sequence[Sample], measure: Callable[[Sample], float]) -> list[float]:
    """``measure`` of each sample."""
    return [measure(s) for s in samples]


def median(numbers: Sequence[float]) -> float:
    """The median, or NaN for none."""
    return statistics.median(numbers) if numbers else float("nan")


def spread(numbers: Sequence[float], digits: int = 0) -> str:
    """``median (min-max)``, or ``-`` for none."""
    if not numbers:
        return "-"
    if len(numbers) == 1:
        return f"{numbers[0]:.{digits}f}"
    return f"{median(numbers):.{digits}f} ({min(numbers):.{digits}f}{DASH}{max(numbers):.{digits}f})"


def ratio(a: float, b: float) -> str:
    """``a / b`` as ``0.82`` and a multiplication sign."""
    return f"{a / b:.2f}{X}" if b and not math.isnan(a) and not math.isnan(b) else "-"


def size_label(size: int) -> str:
    """``256 MiB``, ``1 GiB``, ``1 KiB``."""
    if size >= 1024 * MiB and size % (1024 * MiB) == 0:
        return f"{size // (1024 * MiB)} GiB"
    if size >= MiB:
        return f"{size / MiB:g} MiB"
    return f"{size / 1024:g} KiB"


def throughput(s: Sample) -> float:
    """Throughput, MB/s."""
    return s.throughput_mb_s


def ttfb(s: Sample) -> float:
    """Time to first byte, ms."""
    return s.ttfb_ms


def cpu(s: Sample) -> float:
    """CPU seconds per GiB."""
    return s.cpu_s_per_gib


def rss(s: Sample) -> float:
    """Peak RSS, MiB."""
    return s.peak_rss_mib


def extra(name: str) -> Callable[[Sample], float]:
    """A named figure of ``Sample.extra``."""
    return lambda s: s.extra.get(name, float("nan"))


# --- the headline table ---------------------------------------------------------------------------


class Headline:
    """The issue's table: measure, now, target, met."""

    def __init__(self, samples: Sequence[Sample], plan: Plan) -> None:
        self.samples = samples
        self.plan = plan
        self.rows: list[tuple[str, str, str, str]] = []

    def med(self, scenario: str, target: str, measure: Callable[[Sample], float], **where: int) -> float:
        """The median of ``measure`` over the matching samples."""
        return median(values(pick(self.samples, scenario, target, **where), measure))

    def add(self, measure: str, now: str, target: str, met: bool | None) -> None:
        """One row; ``met`` None when the row has no pass/fail reading."""
        self.rows.append((measure, now, target, "-" if met is None else ("yes" if met else "no")))

    def build(self) -> list[tuple[str, str, str, str]]:
        """Every row, in the issue's order."""
        self.single()
        self.concurrent()
        self.runtimes()
        self.relay()
        return self.rows

    def single(self) -> None:
        """Single streams of the two largest sizes, CPU per GiB, the 1 MiB chunk setting."""
        sizes = sorted(self.plan.single_sizes)[-2:]
        names = " / ".join(size_label(s) for s in sizes)
        serve = [self.med("single stream", SERVE, throughput, size=s) for s in sizes]
        fast = [self.med("single stream", SERVE_1MIB, throughput, size=s) for s in sizes]
        nginx = [self.med("single stream", NGINX, throughput, size=s) for s in sizes]
        ratios = " / ".join(ratio(a, b) for a, b in zip(serve, nginx, strict=True))
        mbs = " / ".join(f"{v:.0f}" for v in serve) + " vs " + " / ".join(f"{v:.0f}" for v in nginx)
        self.add(
            f"single stream {names}, `serve` vs nginx proxy_pass",
            f"{ratios} ({mbs} MB/s)",
            f"≥ 1.00{X}",
            all(a >= b for a, b in zip(serve, nginx, strict=True)),
        )
        big = sizes[-1]
        rss_default = self.med("single stream", SERVE, rss, size=big)
        rss_fast = self.med("single stream", SERVE_1MIB, rss, size=big)
        self.add(
            f"the same with `S3_PROXY_CHUNK_SIZE=1048576` ({size_label(big)})",
            f"{fast[-1]:.0f} MB/s ({ratio(fast[-1], nginx[-1])} nginx), RSS {rss_default:.1f} → {rss_fast:.1f} MiB",
            "make the fast setting the default, or better",
            None,
        )
        serve_cpu = [self.med("single stream", SERVE, cpu, size=s) for s in sizes]
        nginx_cpu = [self.med("single stream", NGINX, cpu, size=s) for s in sizes]
        self.add(
            f"CPU seconds per GiB ({names}), `serve` vs nginx",
            " / ".join(f"{v:.2f}" for v in serve_cpu)
            + " vs "
            + " / ".join(f"{v:.2f}" for v in nginx_cpu)
            + f" ({' / '.join(ratio(a, b) for a, b in zip(serve_cpu, nginx_cpu, strict=True))})",
            f"≤ 1.00{X}",
            all(a <= b for a, b in zip(serve_cpu, nginx_cpu, strict=True)),
        )

    def concurrent(self) -> None:
        """Aggregate throughput, median TTFB, errors and peak RSS at the headline concurrency."""
        n = self.plan.headline_concurrency
        sizes = sorted(self.plan.concurrent_sizes)
        names = " / ".join(f"{X} {size_label(s)}" for s in sizes)
        agg = [
            (
                self.med("concurrent", SERVE, throughput, size=s, concurrency=n),
                self.med("concurrent", NGINX, throughput, size=s, concurrency=n),
            )
            for s in sizes
        ]
        errors = sum(s.errors for s in self.samples if s.scenario == "concurrent" and s.target == SERVE)
        self.add(
            f"{n} concurrent {names}: aggregate vs nginx",
            " / ".join(ratio(a, b) for a, b in agg)
            + " ("
            + " / ".join(f"{a:.0f} vs {b:.0f}" for a, b in agg)
            + f" MB/s), {errors} errors",
            f"≥ 1.00{X}, zero errors",
            all(a >= b for a, b in agg) and errors == 0,
        )
        first = [
            (
                values(pick(self.samples, "concurrent", SERVE, size=s, concurrency=n), ttfb),
                values(pick(self.samples, "concurrent", NGINX, size=s, concurrency=n), ttfb),
            )
            for s in sizes
        ]
        self.add(
            f"{n} concurrent: median time to first byte, ms",
            " / ".join(spread(a) for a, _ in first) + " vs nginx " + " / ".join(spread(b) for _, b in first),
            f"≤ 2{X} nginx",
            all(median(a) <= 2 * median(b) for a, b in first),
        )
        peaks = [self.med("concurrent", SERVE, rss, size=s, concurrency=n) for s in sizes]
        nginx_peaks = [self.med("concurrent", NGINX, rss, size=s, concurrency=n) for s in sizes]
        self.add(
            f"{n} concurrent: peak RSS, MiB",
            " / ".join(f"{v:.1f}" for v in peaks) + " (nginx " + " / ".join(f"{v:.1f}" for v in nginx_peaks) + ")",
            "≤ 120 MiB",
            all(v <= 120 for v in peaks),
        )

    def runtimes(self) -> None:
        """The runtimes alone behind the stub: vs serve, vs Node, cold start, first invocation."""
        size = self.plan.lambda_size
        python = self.med("runtime alone", PYTHON_RUNTIME, throughput)
        serve = self.med("runtime alone", SERVE, throughput)
        node = self.med("runtime alone", NODE, throughput)
        self.add(
            f"Lambda runtime alone (raw Runtime API stub, no emulator) vs `serve`, {size_label(size)}",
            f"{ratio(python, serve)} ({python:.0f} vs {serve:.0f} MB/s)",
            f"≥ 1.00{X}",
            python >= serve,
        )
        python_cpu = self.med("runtime alone", PYTHON_RUNTIME, cpu)
        node_cpu = self.med("runtime alone", NODE, cpu)
        self.add(
            "Lambda runtime alone vs the Node.js design alone",
            f"{ratio(python, node)} throughput ({python:.0f} vs {node:.0f} MB/s), "
            f"{ratio(python_cpu, node_cpu)} CPU/GiB ({python_cpu:.2f} vs {node_cpu:.2f} s)",
            f"≥ 1.5{X} throughput",
            python >= 1.5 * node,
        )
        cold_python = values(pick(self.samples, "cold start", PYTHON_RUNTIME), extra("cold_start_ms"))
        cold_node = values(pick(self.samples, "cold start", NODE), extra("cold_start_ms"))
        self.add(
            "cold start: runtime spawn → first `GET /next`, ms",
            f"{spread(cold_python)} vs Node {spread(cold_node)} ({ratio(median(cold_python), median(cold_node))})",
            f"≤ 1.5{X} Node",
            median(cold_python) <= 1.5 * median(cold_node),
        )
        first_python = values(
            pick(self.samples, "first small invocation", PYTHON_RUNTIME), extra("first_invocation_ms")
        )
        first_node = values(pick(self.samples, "first small invocation", NODE), extra("first_invocation_ms"))
        self.add(
            "first small invocation after INIT (1 KiB), ms",
            f"{spread(first_python, 1)} vs Node {spread(first_node, 1)}",
            f"≤ 1.0{X} Node",
            median(first_python) <= median(first_node),
        )
        self.init_breakdown()

    def init_breakdown(self) -> None:
        """The Python runtime's INIT phase by phase (benchmarks/init_phases.py), medians in ms."""
        group = pick(self.samples, "init breakdown", PYTHON_RUNTIME)
        parts = [f"{label} {median(values(group, extra(f'init_{name}_ms'))):.0f}" for label, name in INIT_PHASE_LABELS]
        self.add("the Python runtime's INIT by phase, ms (medians)", ", ".join(parts), "-", None)

    def relay(self) -> None:
        """The emulator's ceiling with the zero-cost runtime."""
        relay = pick(self.samples, "relay ceiling", EMULATOR)
        self.add(
            "local Function URL relay ceiling (a zero-cost fake runtime behind it), "
            + size_label(self.plan.lambda_size),
            f"{spread(values(relay, throughput))} MB/s; emulator {median(values(relay, cpu)):.2f} CPU s/GiB",
            f"≥ 2{X} 219 MB/s, so local runs measure the runtime, not the emulator",
            median(values(relay, throughput)) >= 438,
        )


# --- the detail tables -------------------------------------------------------------------------------


def detail_rows(samples: Sequence[Sample]) -> list[str]:
    """One Markdown row per scenario, target, size and concurrency, in the order first measured."""
    keys: list[tuple[str, str, int, int]] = []
    for s in samples:
        key = (s.scenario, s.target, s.size, s.concurrency)
        if key not in keys and s.scenario not in ("cold start", "first small invocation", "init breakdown"):
            keys.append(key)
    rows = []
    for scenario, target, size, concurrency in sorted(keys, key=lambda k: (SCENARIOS.index(k[0]), k[2], k[3])):
        group = pick(samples, scenario, target, size, concurrency)
        rows.append(
            f"| {scenario} | {target} | {size_label(size)} | {concurrency} | {len(group)} "
            f"| {spread(values(group, throughput))} | {spread(values(group, ttfb), 1)} "
            f"| {spread(values(group, cpu), 2)} | {spread(values(group, rss), 1)} | {sum(s.errors for s in group)} |"
        )
    return rows


def missing_scenarios(samples: Sequence[Sample]) -> list[str]:
    """Scenarios with no sample, or whose samples' main figure is zero or not a number."""
    main: dict[str, Callable[[Sample], float]] = {
        "cold start": extra("cold_start_ms"),
        "first small invocation": extra("first_invocation_ms"),
        "init breakdown": extra("init_ready_ms"),
    }
    missing = []
    for scenario in SCENARIOS:
        group = [s for s in samples if s.scenario == scenario]
        figure = main.get(scenario, throughput)
        if not group or not all(figure(s) > 0 for s in group):
            missing.append(scenario)
    return missing


# --- plots ---------------------------------------------------------------------------------------------


def plot_all(samples: Sequence[Sample], plan: Plan, directory: Path) -> list[str]:
    """Draw every plot into ``directory``; return the file names."""
    import matplotlib

    matplotlib.use("Agg")
    directory.mkdir(parents=True, exist_ok=True)
    return [
        plot_headline(samples, plan, directory / "headline.png"),
        plot_size(samples, plan, directory / "size.png"),
        plot_concurrency(samples, plan, directory / "concurrency.png"),
        plot_cpu(samples, plan, directory / "cpu.png"),
        plot_rss(samples, plan, directory / "rss.png"),
    ]


def _line(axis: object, xs: Sequence[float], groups: Sequence[list[float]], label: str) -> None:
    """Medians joined by a line, min-max as error bars."""
    points = [(x, g) for x, g in zip(xs, groups, strict=True) if g]
    if not points:
        return
    mids = [median(g) for _, g in points]
    low = [m - min(g) for m, (_, g) in zip(mids, points, strict=True)]
    high = [max(g) - m for m, (_, g) in zip(mids, points, strict=True)]
    axis.errorbar(  # type: ignore[attr-defined]
        [x for x, _ in points], mids, yerr=[low, high], marker="o", capsize=3, label=label
    )


def plot_headline(samples: Sequence[Sample], plan: Plan, path: Path) -> str:
    """Grouped bars: MB/s of serve, serve with 1 MiB chunks and nginx, single streams and concurrency."""
    import matplotlib.pyplot as plt

    n = plan.headline_concurrency
    groups = [(f"1 {X} {size_label(s)}", "single stream", s, 1) for s in sorted(plan.single_sizes)[-2:]]
    groups += [(f"{n} {X} {size_label(s)}", "concurrent", s, n) for s in sorted(plan.concurrent_sizes)]
    targets = [SERVE, SERVE_1MIB, NGINX]
    figure, axis = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(targets)
    for index, target in enumerate(targets):
        heights = [median(values(pick(samples, sc, target, s, c), throughput)) for _, sc, s, c in groups]
        xs = [g + (index - 1) * width for g in range(len(groups))]
        axis.bar(xs, [0 if math.isnan(h) else h for h in heights], width, label=target)
    axis.set_xticks(range(len(groups)), [label for label, *_ in groups])
    axis.set_ylabel("MB/s (median of rounds)")
    axis.set_title("s3-stream-proxy `serve` vs nginx proxy_pass, nginx as S3, loopback")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path.name


def plot_size(samples: Sequence[Sample], plan: Plan, path: Path) -> str:
    """Single-stream throughput and time to first byte against object size."""
    import matplotlib.pyplot as plt

    sizes = sorted(plan.single_sizes)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for target in (SERVE, SERVE_1MIB, NGINX):
        xs = [s / MiB for s in sizes]
        _line(left, xs, [values(pick(samples, "single stream", target, s), throughput) for s in sizes], target)
        _line(right, xs, [values(pick(samples, "single stream", target, s), ttfb) for s in sizes], target)
    for axis, label in ((left, "throughput, MB/s"), (right, "time to first byte, ms")):
        axis.set_xscale("log", base=2)
        axis.set_xlabel("object size, MiB (one stream)")
        axis.set_ylabel(label)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path.name


def plot_concurrency(samples: Sequence[Sample], plan: Plan, path: Path) -> str:
    """Aggregate throughput and median time to first byte against concurrency, per object size."""
    import matplotlib.pyplot as plt

    levels = sorted(plan.concurrencies)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for size in sorted(plan.concurrent_sizes):
        for target in (SERVE, NGINX):
            label = f"{target}, {size_label(size)}"
            groups = [pick(samples, "concurrent", target, size, c) for c in levels]
            _line(left, levels, [values(g, throughput) for g in groups], label)
            _line(right, levels, [values(g, ttfb) for g in groups], label)
    for axis, label in ((left, "aggregate throughput, MB/s"), (right, "median time to first byte, ms")):
        axis.set_xscale("log", base=2)
        axis.set_xlabel("concurrent clients")
        axis.set_ylabel(label)
        axis.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path.name


def plot_cpu(samples: Sequence[Sample], plan: Plan, path: Path) -> str:
    """CPU seconds per GiB of each target's processes, medians with min-max."""
    import matplotlib.pyplot as plt

    big = max(plan.single_sizes)
    bars = [
        (f"serve\n1 {X} {size_label(big)}", pick(samples, "single stream", SERVE, big)),
        (f"serve 1 MiB chunks\n1 {X} {size_label(big)}", pick(samples, "single stream", SERVE_1MIB, big)),
        (f"nginx\n1 {X} {size_label(big)}", pick(samples, "single stream", NGINX, big)),
        ("Lambda runtime\nalone", pick(samples, "runtime alone", PYTHON_RUNTIME)),
        ("Node.js design\nalone", pick(samples, "runtime alone", NODE)),
        ("Function URL\nemulator", pick(samples, "relay ceiling", EMULATOR)),
    ]
    figure, axis = plt.subplots(figsize=(10, 4))
    for index, (_, group) in enumerate(bars):
        numbers = values(group, cpu) or [0.0]
        mid = median(numbers)
        axis.bar(index, mid, yerr=[[mid - min(numbers)], [max(numbers) - mid]], capsize=3)
    axis.set_xticks(range(len(bars)), [label for label, _ in bars], fontsize="small")
    axis.set_ylabel("CPU seconds per GiB sent")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path.name


def plot_rss(samples: Sequence[Sample], plan: Plan, path: Path) -> str:
    """Resident memory over time, last round: the headline concurrency with the largest size, and one stream."""
    import matplotlib.pyplot as plt

    n, size, big = plan.headline_concurrency, max(plan.concurrent_sizes), max(plan.single_sizes)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    panels = (
        (left, "concurrent", size, n, f"{n} {X} {size_label(size)}"),
        (right, "single stream", big, 1, f"1 {X} {size_label(big)}"),
    )
    for axis, scenario, s, c, title in panels:
        for target in (SERVE, SERVE_1MIB, NGINX):
            group = pick(samples, scenario, target, s, c)
            if group and group[-1].rss_series:
                times, mib = zip(*group[-1].rss_series, strict=True)
                axis.plot(times, mib, label=target)
        axis.set_title(title)
        axis.set_xlabel("seconds into the transfer")
        axis.set_ylabel("VmRSS, MiB (sum of the target's processes)")
        axis.set_ylim(bottom=0)
        axis.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path.name


# --- the Markdown -------------------------------------------------------------------------------------


def machine() -> str:
    """``N cores, MODEL``, from ``os.cpu_count()`` (as ``nproc``) and ``/proc/cpuinfo``."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0))
    return f"{cores} cores ({model}), {os.uname().sysname} {os.uname().release}"


TUNING = """\
## Tuning

- **Chunk size** (`S3_PROXY_CHUNK_SIZE`, bytes, default 131072): the most bytes of S3's body
  the proxy hands on in one piece. A piece is whatever the S3 connection has buffered, up to
  that size: when the client takes bytes as fast as S3 sends them, pieces are small; when the
  client is the slower side, S3's bytes pile up to aiohttp's flow-control limit (128 KiB plus
  one socket read) and go out together. Each piece costs a fixed amount of Python work (the
  ASGI message, the middleware, a socket write), so large pieces cost less CPU per GiB and
  stream faster. What a stream buffers is set by aiohttp's limit, not by the chunk size, so
  a larger setting costs only the larger pieces in flight: compare the `serve` and `serve 1 MiB
  chunks` rows above. The default, 128 KiB, is aiohttp's limit itself: on this machine 256 KiB
  cost no less CPU per GiB and 10-20 MiB more peak RSS at 64 streams, 1 MiB more again.
  Reading S3's body with `read(chunk size)` instead would make aiohttp buffer twice the chunk
  size per stream (64 streams at 1 MiB: about 90 MiB more than at 64 KiB). Time to first byte
  does not depend on it: the first piece goes out as soon as S3's bytes arrive.
- **Workers**: one `serve` process uses one core. Under concurrency on a machine with more cores,
  run one process per core behind a load balancer (or several containers/tasks); the Prometheus
  metrics are per process, so scrape each one. On this 2-core machine the client and the fake S3
  share the cores with the proxy, so the concurrent rows show one process's ceiling, not the host's.
- **Lambda memory size**: Lambda gives a function CPU in proportion to its configured memory,
  which can be set from 128 MB to 10,240 MB; at 1,769 MB a function has the equivalent of one full
  vCPU (one vCPU-second of credit per second), per AWS's
  [memory configuration guide](https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
  The runtime needs about 70 MiB, so memory is bought for CPU: throughput and CPU per GiB above
  were measured on one full core each, so below 1,769 MB expect a streaming function's throughput
  and its INIT (imports are CPU-bound) to shrink about in proportion, and above it a single stream
  gains little, since the runtime runs on one thread (several invocations at once, with
  `AWS_LAMBDA_MAX_CONCURRENCY` on Managed Instances, share that thread too). A stream
  through a Function URL is also capped by the platform itself (the first 6 MB, then 2 MB/s, per
  [response streaming](https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html)),
  which any memory size above a few hundred MB outruns. Where each target stands and why:
  [performance.md](performance.md).
"""


def write_report(samples: Sequence[Sample], plan: Plan, out: Path, command: str, elapsed: float) -> list[str]:
    """Write ``OUT/benchmarks.md`` and ``OUT/benchmarks/*.png``; return the scenarios without numbers."""
    plots = plot_all(samples, plan, out / PLOTS)
    rows = Headline(samples, plan).build()
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (`{command}`) on {today}, in {elapsed / 60:.1f} minutes,",
        f"on {machine()}, a shared machine: other jobs ran at the same time. {plan.rounds} round(s);",
        "within a round the targets alternate (reversed every other round). Figures are medians over",
        f"rounds, with the spread (min{DASH}max) in brackets where shown. Throughput is MB/s (10^6 bytes/s)",
        "as the client (curl, to /dev/null) saw it; CPU is utime + stime of the target's processes",
        "(`/proc/PID/stat`) per GiB sent; memory is the sum of `VmHWM` over the target's processes,",
        "reset before each transfer. S3 is nginx serving files path-style from the page cache unless",
        "a row says moto or s3rver; the peer is a second nginx (one worker) with `proxy_pass` to it.",
        "All traffic is on loopback. How each scenario is run: the docstring of `benchmarks/suite.py`.",
        f"CPU time comes in clock ticks of {1000 / os.sysconf('SC_CLK_TCK'):g} ms, so CPU per GiB of the small",
        "objects is coarse (one tick is 0.64 s/GiB at 16 MiB).",
        "",
        f"![serve vs nginx]({PLOTS}/{plots[0]})",
        "",
        "| measure | now | target (issue 12) | met |",
        "|---|---|---|---|",
        *(f"| {m} | {now} | {target} | {met} |" for m, now, target, met in rows),
        "",
        "## Plots",
        "",
        *(f"![{name}]({PLOTS}/{name})" for name in plots[1:]),
        "",
        "## Every measurement",
        "",
        "| scenario | target | object | clients | rounds | MB/s | TTFB ms | CPU s/GiB | peak RSS MiB | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *detail_rows(samples),
        "",
        "`runtime alone`: the runtimes stream to the Runtime API stub (MB/s from the event's dispatch",
        "to the response's end, TTFB to its first body byte); `serve` in the same rows is fetched by",
        "curl. `relay ceiling`: CPU is the emulator's. `backends`: `serve on moto/s3rver` and GETs",
        "straight from them (presigned), where CPU and memory are the S3 server's.",
        "",
        TUNING,
    ]
    (out / "benchmarks.md").write_text("\n".join(lines))
    return missing_scenarios(samples)

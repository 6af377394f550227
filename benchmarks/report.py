"""Turns one run of scripts/bench.sh into the committed results: RESULTS.md (tables, the
machine, the method), summary.json (every number in the tables), the raw data it was made
from (hyperfine's JSON, the session benchmark's JSON, the machine and size figures), and
benchmarks.png (the plot).

    python benchmarks/report.py --data DIR --out DIR [--readme README.md]

With --readme, the README's block between the markers README_START and README_END is
replaced by the headline and goals tables of this run, so the README quotes the committed
results and nothing else.
The raw data is copied to --out, so `--data benchmarks/results --out benchmarks/results`
makes the report again from committed results.
"""

import argparse
import json
import shutil
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

README_START = "<!-- benchmark tables: written by scripts/bench.sh, do not edit -->"
README_END = "<!-- end of benchmark tables -->"
RAW_FILES = ["machine.env", "size.env", "sessions.json", "noise.json", "execd-missing.txt"]
NETWORKS = ["TCP", "TCP + 1 ms", "TLS", "TLS + 1 ms"]
SETUPS = ["hand-written", "buildpack", "buildpack, locking off", "buildpack's handler"]
COLORS = {
    "files": "#8c8c8c",
    "hand-written": "#d95f02",
    "buildpack": "#1b9e77",
    "buildpack, locking off": "#7570b3",
    "buildpack's handler": "#e7298a",
}


def read_env(path):
    values = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


def load_timings(data, name):
    """hyperfine's results for NAME: NAME.json (already pooled), or the rounds
    NAME-1.json, NAME-2.json... that scripts/bench.sh writes, pooled per command."""
    pooled = data / f"{name}.json"
    if pooled.exists():
        return json.loads(pooled.read_text())
    rounds = sorted(data.glob(f"{name}-*.json"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    merged = {}
    for path in rounds:
        for result in json.loads(path.read_text())["results"]:
            entry = merged.setdefault(result["command"], {
                "command": result["command"], "times": [], "round_medians": [],
                "exit_codes": [],
            })
            entry["times"].extend(result["times"])
            entry["exit_codes"].extend(result["exit_codes"])
            entry["round_medians"].append(result["median"])
    return {"rounds": len(rounds), "results": list(merged.values())}


def timing_stats(result, rounds):
    """Median and spread of one command's runs over every round, in milliseconds."""
    times = sorted(t * 1000 for t in result["times"])
    q = statistics.quantiles(times, n=4)
    return {
        "name": result["command"],
        "runs": len(times),
        "rounds": rounds,
        "median_ms": statistics.median(times),
        "p25_ms": q[0],
        "p75_ms": q[2],
        "min_ms": times[0],
        "max_ms": times[-1],
        "mean_ms": statistics.fmean(times),
        "stddev_ms": statistics.stdev(times) if len(times) > 1 else 0.0,
    }


def ms(value):
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def kib(value):
    return f"{value / 1024:.0f} KiB" if value >= 10 * 1024 else f"{value / 1024:.1f} KiB"


def ratio(a, b):
    return f"×{a / b:.2f}" if a and b else "n/a"


def find(rows, setup, network):
    for row in rows:
        if row["setup"] == setup and row["network"] == network:
            return row
    return None


def measured(row):
    return row is not None and not row["skipped"] and row["rps_median"] is not None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--readme", type=Path)
    args = parser.parse_args()
    data, out = args.data, args.out
    out.mkdir(parents=True, exist_ok=True)

    machine = read_env(data / "machine.env")
    size = read_env(data / "size.env")
    timings = {}
    for name in ["boot", "build"]:
        timings[name] = load_timings(data, name)
        (out / f"{name}.json").write_text(json.dumps(timings[name]) + "\n")
    boot, build = (
        [timing_stats(r, timings[n]["rounds"]) for r in timings[n]["results"]]
        for n in ["boot", "build"]
    )
    sessions = json.loads((data / "sessions.json").read_text())
    execd_missing = (data / "execd-missing.txt").read_text().strip()
    noise = json.loads((data / "noise.json").read_text())
    rows = sessions["rows"]
    # The raw data goes along, so the report can be made again from the results alone.
    for raw in RAW_FILES:
        if (data / raw).resolve() != (out / raw).resolve():
            shutil.copy(data / raw, out / raw)

    summary = {
        "machine": machine,
        "noise": noise,
        "boot": boot,
        "exec_d": "measured" if not execd_missing else f"n/a: {execd_missing}",
        "build": build,
        "size": {k: (int(v) if v.isdigit() else v) for k, v in size.items()},
        "sessions": {k: sessions[k] for k in ["runtime", "settings", "probe", "traces"]},
        "session_rows": [
            {k: row[k] for k in row if k not in ("rounds", "lost_trials")} for row in rows
        ],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

    markdown = render(machine, size, boot, build, sessions, execd_missing, noise)
    (out / "RESULTS.md").write_text(markdown)
    plot(out / "benchmarks.png", machine, size, boot, build, sessions)
    print(headline(machine, size, boot, build, sessions))
    print(goals(size, boot, build, sessions))
    if args.readme:
        write_readme(args.readme, machine, size, boot, build, sessions)


def write_readme(path, machine, size, boot, build, sessions):
    """Puts this run's headline and goals between the README's markers."""
    text = path.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise SystemExit(f"{path}: the benchmark markers are missing; add {README_START} and {README_END}")
    tables = (
        f"{README_START}\n"
        f"From the committed run ({machine['started'][:10]}, {machine['cpu_model']}, "
        f"{machine['cpus']} cores; [every table](benchmarks/results/RESULTS.md)):\n\n"
        + headline(machine, size, boot, build, sessions)
        + "\nGoals:\n\n"
        + goals(size, boot, build, sessions)
    )
    path.write_text(text[:start] + tables + text[end:])


def by_name(stats, name):
    for s in stats:
        if s["name"] == name:
            return s
    return None


def headline(machine, size, boot, build, sessions):
    rows = sessions["rows"]
    empty = by_name(boot, "bash sourcing an empty script")
    script = by_name(boot, "bash sourcing the buildpack's .profile.d script")
    grep_large = by_name(build, "grep, large app")
    detect_large = by_name(build, "detect, large app")
    compile_large = by_name(build, "compile, large app")
    delay = sessions["settings"]["delay_ms_each_way"]
    lines = [
        "| Measure | Without the buildpack | With the buildpack | Ratio |",
        "| --- | --- | --- | --- |",
        f"| Dyno start: bash sourcing `.profile.d` (median) | {ms(empty['median_ms'])} ms "
        f"(empty script) | {ms(script['median_ms'])} ms | "
        f"+{ms(script['median_ms'] - empty['median_ms'])} ms per dyno start |",
        f"| Build: detect + compile, {int(size['large_lock_bytes']) / 1e6:.1f} MB composer.lock "
        f"(median) | {ms(grep_large['median_ms'])} ms (`grep`) | "
        f"{ms(detect_large['median_ms'] + compile_large['median_ms'])} ms | "
        f"+{ms(detect_large['median_ms'] + compile_large['median_ms'] - grep_large['median_ms'])}"
        " ms per build |",
        f"| Slug, gzipped | {kib(int(size['slug_gzip_before']))} (example app) | "
        f"{kib(int(size['slug_gzip_after']))} | "
        f"+{kib(int(size['slug_gzip_after']) - int(size['slug_gzip_before']))} |",
    ]
    for network in NETWORKS:
        hand, bp = find(rows, "hand-written", network), find(rows, "buildpack", network)
        if measured(hand) and measured(bp):
            lines.append(
                f"| Sessions over {network}"
                f"{' (Redis ' + str(delay) + ' ms away)' if '+' in network else ''}: "
                f"requests/s, p99 | hand-written: {hand['rps_median']:.0f}/s, "
                f"{ms(hand['pooled']['p99_ms'])} ms | {bp['rps_median']:.0f}/s, "
                f"{ms(bp['pooled']['p99_ms'])} ms | "
                f"{ratio(bp['rps_median'], hand['rps_median'])} throughput |"
            )
        else:
            lines.append(f"| Sessions over {network} | not run | not run | n/a |")
    for network in NETWORKS:
        hand, own = find(rows, "hand-written", network), find(rows, "buildpack's handler", network)
        if measured(hand) and measured(own):
            lines.append(
                f"| Sessions over {network}"
                f"{' (Redis ' + str(delay) + ' ms away)' if '+' in network else ''}, "
                "the buildpack's own handler (`PHP_REDIS_SESSIONS_HANDLER=buildpack`) | "
                f"hand-written: {hand['rps_median']:.0f}/s, {ms(hand['pooled']['p99_ms'])} ms | "
                f"{own['rps_median']:.0f}/s, {ms(own['pooled']['p99_ms'])} ms | "
                f"{ratio(own['rps_median'], hand['rps_median'])} throughput |"
            )
    hand = [r for r in rows if r["setup"] == "hand-written" and measured(r)]
    bp = [r for r in rows if r["setup"] in ("buildpack", "buildpack's handler") and measured(r)]
    n = sessions["settings"]["lost_requests"]
    if hand and bp:
        lost_hand = max(r["lost_max"] for r in hand)
        lost_bp = max(r["lost_max"] for r in bp)
        lines.append(
            f"| Lost writes, {n} concurrent requests on one session (worst trial) | "
            f"hand-written: up to {lost_hand:.0f} of {n} | {lost_bp:.0f} of {n} | |"
        )
    return "\n".join(lines) + "\n"


def goals(size, boot, build, sessions):
    """Issue 11's goals, each with the figure this run measured and whether it is met."""
    rows = sessions["rows"]
    empty = by_name(boot, "bash sourcing an empty script")
    script = by_name(boot, "bash sourcing the buildpack's .profile.d script")
    grep_large = by_name(build, "grep, large app")
    detect_large = by_name(build, "detect, large app")
    compile_large = by_name(build, "compile, large app")
    delay = sessions["settings"]["delay_ms_each_way"]
    out = ["| Goal | Target | Measured | Met |", "| --- | --- | --- | --- |"]

    def add(goal, target, figure, met):
        out.append(f"| {goal} | {target} | {figure} | {'yes' if met else '**no**'} |")

    added = script["median_ms"] - empty["median_ms"]
    add("Boot: added to each dyno start", "≤ 1 ms", f"{ms(added)} ms", added <= 1.0)
    for name, stat in [("Detect", detect_large), ("Compile", compile_large)]:
        r = stat["median_ms"] / grep_large["median_ms"]
        add(f"{name}, {int(size['large_lock_bytes']) / 1e6:.0f} MB composer.lock", "≤ 5× grep",
            f"{r:.1f}× ({ms(stat['median_ms'])} ms vs {ms(grep_large['median_ms'])} ms)", r <= 5)
    helper = int(size["helper_bytes"])
    add("Helper as it ships (static)", "≤ 1.5 MB", f"{helper / 1e6:.2f} MB", helper <= 1.5e6)
    phpredis = sessions["runtime"]["phpredis"]
    for setup, what in [("buildpack", "the defaults (strict mode, liveness check on)"),
                        ("buildpack, strict mode off", "strict mode off"),
                        ("buildpack, liveness check off", "liveness check off")]:
        row = find(rows, setup, f"TCP + {delay:g} ms")
        if measured(row) and row.get("redis_round_trips_per_request") is not None:
            trips = row["redis_round_trips_per_request"]
            add(f"Round trips a request, phpredis' handler (phpredis {phpredis}), {what}",
                "≤ 6", f"{trips:.2f}", trips <= 6.05)
    for network in [f"TCP + {delay:g} ms", f"TLS + {delay:g} ms"]:
        hand, own = find(rows, "hand-written", network), find(rows, "buildpack's handler", network)
        if measured(hand) and measured(own):
            r = own["rps_median"] / hand["rps_median"]
            add(f"Buildpack's handler vs hand-written, {network}, locking on", "≥ 1.5×",
                f"{r:.2f}× ({own['rps_median']:.0f} vs {hand['rps_median']:.0f} requests/s), "
                f"{own.get('redis_round_trips_per_request') or 0:.2f} round trips",
                r >= 1.5)
    for setup in ["buildpack", "buildpack's handler"]:
        mine = [r for r in rows if r["setup"] == setup and measured(r)]
        if mine:
            worst = max(r["lost_max"] for r in mine)
            add(f"Lost writes, {setup}", "0", f"{worst:.0f} (worst trial of every row)", worst == 0)
    return "\n".join(out) + "\n"


def failed_note(row):
    failed = sum(t["failed"] for t in row["lost_trials"])
    return f", {failed} requests failed" if failed else ""


def render(machine, size, boot, build, sessions, execd_missing, noise):
    s = sessions["settings"]
    rt = sessions["runtime"]
    rows = sessions["rows"]
    probe = sessions["probe"]
    quick = machine.get("quick") == "1"
    out = []
    add = out.append
    add("# Benchmark results\n")
    if quick:
        add("**Quick run (`--quick`): few runs, short load; for development, not for quoting.**\n")
    add(
        f"Run by `scripts/bench.sh` from {machine['started']} to {machine['finished']} (UTC) on "
        f"{machine['cpu_model']}, {machine['cpus']} cores, "
        f"{int(machine['memory_kib']) / 1024 / 1024:.0f} GiB; details and noise under "
        "[Machine](#machine). Raw data: `boot.json`, `build.json` (hyperfine), "
        "`sessions.json`; every number below: `summary.json`; plot: `benchmarks.png`.\n"
    )
    add("## Headline\n")
    add(headline(machine, size, boot, build, sessions))
    add("## Goals\n")
    add(goals(size, boot, build, sessions))
    add("![Benchmarks](benchmarks.png)\n")

    add("## 1. Boot cost\n")
    add(
        "What the buildpack adds to every dyno start (web, worker, one-off): bash sourcing its "
        "`.profile.d` script, which runs the helper once, with a typical "
        "`REDIS_URL=rediss://:<65 characters>@ec2-….amazonaws.com:PORT`, against bash sourcing "
        "an empty script. The helper's own run (`php-redis-sessions boot --shell`, the work the "
        "CNB exec.d program will do) is measured directly. "
        f"hyperfine without a shell (`-N`), {boot[0]['runs']} runs of each command in "
        f"{boot[0]['rounds']} rounds (each round times every command, after 10 warmup runs, "
        "so that a burst of other work does not land on one command alone); statistics "
        "over all runs.\n"
    )
    add("| Command | Median | p25–p75 | Min–max | Mean ± sd |")
    add("| --- | --- | --- | --- | --- |")
    for b in boot:
        add(
            f"| {b['name']} | {ms(b['median_ms'])} ms | {ms(b['p25_ms'])}–{ms(b['p75_ms'])} ms "
            f"| {ms(b['min_ms'])}–{ms(b['max_ms'])} ms | {ms(b['mean_ms'])} ± "
            f"{ms(b['stddev_ms'])} ms |"
        )
    if execd_missing:
        add(f"| exec.d program (CNB) | n/a | | | |\n\nexec.d: n/a, {execd_missing}.\n")
    else:
        add("")
    empty = by_name(boot, "bash sourcing an empty script")
    script = by_name(boot, "bash sourcing the buildpack's .profile.d script")
    add(
        f"Added to each dyno start: **{ms(script['median_ms'] - empty['median_ms'])} ms** "
        "(difference of the medians).\n"
    )

    add("## 2. Build cost\n")
    add(
        "`bin/detect` and `bin/compile` as Heroku runs them (bash finds the helper, which "
        "parses composer.json and composer.lock; compile also copies the helper and writes "
        "the boot files) against a plain `grep -q -F ext-redis composer.json composer.lock`. "
        f"Small app: the example app ({size['small_lock_bytes']} byte lock). Large app: a "
        f"generated composer.lock of {size['large_lock_packages']} packages "
        f"({int(size['large_lock_bytes']) / 1e6:.1f} MB) in which only the last package "
        "requires ext-redis, so both detect and grep must read nearly all of it. "
        f"{build[0]['runs']} runs each in {build[0]['rounds']} rounds, as above (2 warmup "
        "runs per round).\n"
    )
    add("| Command | Median | p25–p75 | Min–max |")
    add("| --- | --- | --- | --- |")
    for b in build:
        add(
            f"| {b['name']} | {ms(b['median_ms'])} ms | {ms(b['p25_ms'])}–{ms(b['p75_ms'])} ms "
            f"| {ms(b['min_ms'])}–{ms(b['max_ms'])} ms |"
        )
    add(
        "\nBash's own start (the empty-script row in Boot cost) is part of every `bin/` "
        "row; grep is run directly.\n"
    )

    add("## 3. Size\n")
    add("| What | Bytes |")
    add("| --- | --- |")
    add(f"| Helper binary, as it ships (static, `scripts/package.sh`) | {int(size['helper_bytes']):,} "
        f"({kib(int(size['helper_bytes']))}) |")
    add(f"| Helper binary, gzip -9 | {int(size['helper_gzip_bytes']):,} "
        f"({kib(int(size['helper_gzip_bytes']))}) |")
    add(f"| Files the build adds to the slug ({size['slug_files_added'].strip()}) | "
        f"{int(size['slug_bytes_added']):,} ({kib(int(size['slug_bytes_added']))}) |")
    add(f"| Example app's slug, gzipped tarball, before → after | "
        f"{int(size['slug_gzip_before']):,} → {int(size['slug_gzip_after']):,} "
        f"(+{kib(int(size['slug_gzip_after']) - int(size['slug_gzip_before']))}) |")
    add("")

    add("## 4. Session throughput and latency, 5. lost writes\n")
    add(
        f"{s.get('server_name', 'PHP' + chr(39) + 's built-in server')} "
        f"({'pm = static, ' if s.get('server') == 'fpm-nginx' else ''}"
        f"{s['php_workers']} PHP workers) serving "
        "example/public/index.php (start the session, count a visit, answer JSON), driven by "
        f"{s['clients']} closed-loop clients, each with its own session cookie, on a new "
        f"connection per request. {s['rounds']} round(s) of {s['warmup_s']:g} s warmup + "
        f"{s['duration_s']:g} s measured per row, rows interleaved (order reversed every other "
        "round). Requests/s: median of the rounds (min–max); latency: connect to last byte, "
        "over every request of all rounds, so with more clients than workers it includes the "
        "wait for a free worker, as on a busy dyno. Every response is checked: status 200, "
        "the expected save handler, and a visit count one higher than that client's last "
        "(Errors counts any miss).\n"
    )
    add(
        f"Runtime: {rt['os']}, PHP {rt['php']}, phpredis {rt['phpredis']}, Redis {rt['redis']}, "
        f"{rt['openssl']}; one password-protected redis-server for every row, TLS with a "
        f"{s['tls_certificate']}.\n"
    )
    add(
        "- **files**: PHP's default file sessions (local disk), no Redis.\n"
        "- **hand-written**: `benchmarks/php/handwritten.php`, the snippet apps paste today: "
        "parse `REDIS_URL` in PHP, `tcp://host:port?auth=…` (`tls://…&stream[verify_peer]=0` "
        "for `rediss://`), no persistent connection, no locking.\n"
        "- **buildpack**: the example app built with `bin/compile`, its `.profile.d` sourced "
        "as a dyno does; the buildpack's defaults (persistent connection, locking, strict mode, "
        "timeouts).\n"
        "- **buildpack's handler**: the same with `PHP_REDIS_SESSIONS_HANDLER=buildpack`, the "
        "buildpack's own session handler (locking on; two round trips a request).\n"
        "- **buildpack, locking off**: the same with `PHP_REDIS_SESSIONS_LOCKING=0`, to show "
        "what locking costs; not a recommended setting.\n"
        "- **buildpack, <setting>**: the same with one of phpredis' settings changed (set by "
        "the php-fpm pool over every ini file), or strict mode or persistent connections off: "
        "what each costs or saves, in round trips and requests/s.\n"
        "- Every Redis row reaches Redis through a proxy (with no delay for the plain TCP and "
        "TLS rows), which counts the round trips: each chunk the PHP workers send, and each "
        "new connection.\n"
        f"- **+ {s['delay_ms_each_way']:g} ms**: Redis reached through a delay proxy on "
        f"loopback that holds every packet {s['delay_ms_each_way']:g} ms in each direction and "
        "charges each new connection a TCP handshake (one round trip), as a real network "
        f"would. Measured: PING round trip {probe['ping_direct_ms']:.3f} ms direct, "
        f"{probe['ping_proxied_ms']:.3f} ms through it; connect + PING "
        f"{probe['connect_ping_direct_ms']:.3f} ms direct, "
        f"{probe['connect_ping_proxied_ms']:.3f} ms through it.\n"
    )
    add(
        f"Lost writes: {s['lost_requests']} requests at once on one session, each adding a "
        f"visit while holding the session {s['lost_hold_ms']} ms (`?hold_ms=`), then one "
        f"request reads the count; {s['lost_trials']} trials per row, median (worst).\n"
    )
    add(
        "| Setup | Redis over | Requests/s (min–max) | p50 | p90 | p99 | Errors | "
        "Redis connections per request | Redis round trips per request | Lost writes |"
    )
    add("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        if row["skipped"]:
            add(f"| {row['setup']} | {row['network']} | not run: {row['skipped']} | | | | | | | |")
            continue
        p = row["pooled"]
        errors = p["errors"] + p["session_errors"]
        conns = row["redis_connections_per_request"]
        trips = row.get("redis_round_trips_per_request")
        add(
            f"| {row['setup']} | {row['network']} | **{row['rps_median']:.0f}** "
            f"({row['rps_min']:.0f}–{row['rps_max']:.0f}) | {ms(p['p50_ms'])} ms | "
            f"{ms(p['p90_ms'])} ms | {ms(p['p99_ms'])} ms | {errors} | "
            f"{'–' if conns is None else f'{conns:.2f}'} | "
            f"{'–' if trips is None else f'{trips:.2f}'} | "
            f"{row['lost_median']:.0f} of {s['lost_requests']} ({row['lost_max']:.0f})"
            f"{failed_note(row)} |"
        )
    add("")
    add(
        "Why: the Redis commands of one steady-state request (the third on a session, one PHP "
        "worker, seen with MONITOR; commands run inside Redis by a script left out), and the "
        "round trips a request waits for, measured with one client and one worker: (median "
        "latency with Redis behind the delay proxy − without) ÷ the round trip the proxy "
        "adds. A new connection costs a round trip for the TCP handshake (and one more for "
        "TLS); commands sent together share one.\n"
    )
    add("| Setup | Commands | New connection | One client, p50: TCP → TCP + delay | Round trips |")
    add("| --- | --- | --- | --- | --- |")
    for t in sessions["traces"]:
        timing = rtt = "n/a"
        if "round_trips" in t:
            timing = f"{ms(t['one_client_p50_ms'])} → {ms(t['one_client_p50_delayed_ms'])} ms"
            rtt = f"{t['round_trips']:.1f}"
        add(
            f"| {t['setup']} | {len(t['commands'])}: {' '.join(t['commands'])} | "
            f"{'yes' if t['new_connection'] else 'no'} | {timing} | {rtt} |"
        )
    add("")
    warned = [r for r in rows if r.get("server_warnings")]
    if warned:
        add("PHP logged warnings in these rows:\n")
        for r in warned:
            add(f"- {r['setup']} / {r['network']}: {r['server_warnings']} lines, first: "
                f"`{r['first_server_warning']}`")
        add("")

    add("## Machine\n")
    mem_gib = int(machine["memory_kib"]) / 1024 / 1024
    add("| | |")
    add("| --- | --- |")
    add(f"| Date (UTC) | {machine['started']} – {machine['finished']} |")
    add(f"| CPU | {machine['cpu_model']}, {machine['cpus']} cores"
        f"{', virtual machine (' + machine['virtualization'] + ')' if machine.get('virtualization') else ''} |")
    add(f"| Memory | {mem_gib:.1f} GiB |")
    add(f"| OS | {machine['os']}, Linux {machine['kernel']} |")
    add(f"| Boot and build runs | host: bash {machine['bash']}, PHP {machine['host_php']}, "
        f"phpredis {machine['host_phpredis']}, Redis {machine['host_redis']}, "
        f"{machine['hyperfine']} |")
    add(f"| Session runs | {rt['os']} ({machine['sessions_runtime']}"
        f"{': a chroot made by scripts/trixie-runtime.sh, same kernel and network' if machine['sessions_runtime'] == 'trixie' else ''}), "
        f"PHP {rt['php']}, phpredis {rt['phpredis']}, Redis {rt['redis']}, {rt['openssl']} |")
    add(f"| Built with | {machine['rustc']}, `cargo build --release` |")
    add(
        f"| Load | load average {machine['load_start']} at the start, {machine['load_end']} at "
        f"the end (this run's own load included); whole machine busy over 1 s with this run "
        f"idle: {machine['cpu_busy_start']}% before, {machine['cpu_busy_end']}% after |"
    )
    for p in noise:
        add(
            f"| Others' CPU during {p['phase']} ({p['seconds']} s) | mean "
            f"**{p['others_cpu_mean_pct']:.0f}%** of the machine, busiest second "
            f"{p['others_cpu_max_pct']:.0f}% |"
        )
    add("")
    add(
        "The machine is shared: other engineers build and test on it at the same time, so "
        "every figure carries their noise. \"Others' CPU\" is the CPU time of every process "
        "outside this run's session (kernel threads left out), sampled each second, as a "
        "share of both cores; processes that start and end between two samples are missed, "
        "so it is a floor. The spreads in each table show the rest. The load generator, the delay proxy, Redis and PHP all share the same 2 "
        "cores, so absolute requests/s are low and compress differences where CPU is the "
        "limit (the no-delay rows); the delayed rows are bound by round trips instead. Compare "
        "rows with each other, not with production numbers.\n"
    )
    return "\n".join(out)


def plot(path, machine, size, boot, build, sessions):
    rows = sessions["rows"]
    s = sessions["settings"]
    fig, axes = plt.subplots(2, 3, figsize=(17, 10))
    fig.suptitle(
        f"PHP Redis Sessions buildpack: costs and session performance "
        f"({machine['started'][:10]}, {machine['cpus']}-core {machine['cpu_model']}, shared)",
        fontsize=13,
    )
    width = 0.2
    files = find(rows, "files", "local disk")

    def grouped(ax, value, err=None, fmt="{:.0f}"):
        for i, setup in enumerate(SETUPS):
            xs, ys, lo, hi = [], [], [], []
            for j, network in enumerate(NETWORKS):
                row = find(rows, setup, network)
                if not measured(row):
                    continue
                xs.append(j + (i - 1.5) * width)
                ys.append(value(row))
                if err:
                    a, b = err(row)
                    lo.append(max(0, value(row) - a))
                    hi.append(max(0, b - value(row)))
            if not xs:
                continue
            bars = ax.bar(
                xs, ys, width, color=COLORS[setup],
                yerr=[lo, hi] if err else None, capsize=3,
            )
            ax.bar_label(bars, [fmt.format(y) for y in ys], fontsize=7, padding=2)
        ax.set_xticks(range(len(NETWORKS)))
        ax.set_xticklabels([f"Redis over\n{n}" for n in NETWORKS])

    files_note = ""
    if measured(files):
        files_note = (f"files (local disk, no Redis): {files['rps_median']:.0f}/s, "
                      f"p99 {files['pooled']['p99_ms']:.1f} ms, "
                      f"{files['lost_median']:.0f} lost")

    ax = axes[0][0]
    grouped(ax, lambda r: r["rps_median"], lambda r: (r["rps_min"], r["rps_max"]))
    ax.set_title(f"Session throughput (requests/s, higher is better)\n"
                 f"{s['php_workers']} PHP workers, {s['clients']} clients; bars: median, "
                 "whiskers: min–max of rounds", fontsize=9)
    ax.set_ylabel("requests/s")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.12)

    ax = axes[0][1]
    grouped(ax, lambda r: r["pooled"]["p99_ms"], fmt="{:.1f}")
    for i, setup in enumerate(SETUPS):
        for j, network in enumerate(NETWORKS):
            row = find(rows, setup, network)
            if measured(row):
                ax.plot(j + (i - 1.5) * width, row["pooled"]["p50_ms"], marker="_",
                        color="black", markersize=14, mew=2)
    ax.set_title("Session latency (ms, lower is better)\nbars: p99, black marks: p50",
                 fontsize=9)
    ax.set_ylabel("ms")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.12)

    ax = axes[0][2]
    grouped(ax, lambda r: r["lost_median"], lambda r: (r["lost_median"], r["lost_max"]))
    ax.set_ylim(0, s["lost_requests"] * 1.15)
    ax.set_title(f"Lost writes of {s['lost_requests']} concurrent requests on one session\n"
                 f"(lower is better) bars: median, whiskers: worst of {s['lost_trials']} trials",
                 fontsize=9)

    handles = [Patch(color=COLORS[name], label=name) for name in SETUPS]
    handles.append(Line2D([], [], marker="_", color="black", ls="", markersize=14, mew=2,
                          label="p50 (latency)"))
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=9,
               bbox_to_anchor=(0.5, 0.955), frameon=False)
    if files_note:
        fig.text(0.5, 0.915, files_note, ha="center", fontsize=9, color="#555555")

    def hbars(ax, stats, colors, title):
        names = [b["name"] for b in stats]
        med = [b["median_ms"] for b in stats]
        err = [[m - b["p25_ms"] for m, b in zip(med, stats)],
               [b["p75_ms"] - m for m, b in zip(med, stats)]]
        bars = ax.barh(range(len(stats)), med, xerr=err, color=colors, capsize=3)
        ax.bar_label(bars, [f"{m:.2f} ms" if m < 10 else f"{m:.1f} ms" for m in med],
                     fontsize=8, padding=4)
        ax.set_yticks(range(len(stats)))
        ax.set_yticklabels(names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("ms")
        ax.set_title(title, fontsize=9)
        ax.set_xlim(0, max(b["p75_ms"] for b in stats) * 1.35)

    hbars(axes[1][0], boot,
          [COLORS["files"] if "empty" in b["name"] else COLORS["buildpack"] for b in boot],
          f"Boot cost per dyno start (median, whiskers: p25–p75 of {boot[0]['runs']} runs)")
    hbars(axes[1][1], build,
          [COLORS["files"] if b["name"].startswith("grep") else COLORS["buildpack"]
           for b in build],
          f"Build cost (median, whiskers: p25–p75 of {build[0]['runs']} runs)\n"
          f"large app: {int(size['large_lock_bytes']) / 1e6:.1f} MB composer.lock, "
          f"{size['large_lock_packages']} packages")

    ax = axes[1][2]
    items = [
        ("example app slug (gz)", int(size["slug_gzip_before"]), COLORS["files"]),
        ("same slug + buildpack (gz)", int(size["slug_gzip_after"]), COLORS["buildpack"]),
        ("helper binary", int(size["helper_bytes"]), COLORS["buildpack"]),
        ("helper binary (gzip -9)", int(size["helper_gzip_bytes"]), COLORS["buildpack"]),
    ]
    bars = ax.barh(range(len(items)), [v / 1024 for _, v, _ in items],
                   color=[c for _, _, c in items])
    ax.bar_label(bars, [f"{v / 1024:.0f} KiB" for _, v, _ in items], fontsize=8, padding=4)
    ax.set_yticks(range(len(items)))
    ax.set_yticklabels([n for n, _, _ in items], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max(v for _, v, _ in items) / 1024 * 1.3)
    ax.set_xlabel("KiB")
    ax.set_title("Size", fontsize=9)

    for i, line in enumerate(axes):
        for ax in line:
            ax.grid(axis="y" if i == 0 else "x", alpha=0.3)
            ax.set_axisbelow(True)
    fig.tight_layout(rect=(0, 0, 1, 0.91))
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    main()

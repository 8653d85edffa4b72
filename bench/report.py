"""The generated section of docs/benchmarks.md, from the results bench/run.py collects."""

PAGES = ("timeline-median", "timeline-largest", "list-first", "list-deep", "list-filtered", "list-filtered-deep")
SEARCHES = ("search-common", "search-rare", "search-absent", "search-korean")
NOT_PAGES = ("healthz", "static")


def render(summary):
    lines = [
        f"## Run of {summary['started']} (finished {summary['finished']})",
        "",
        f"- Machine: {summary['machine']}. {machine_load(summary)} The ratios to `/healthz` and to a static "
        "file are the numbers to compare between machines and runs. In each round, `/healthz` is loaded "
        "before the first page and after every page, and a page's ratio is to the mean of the two `/healthz` "
        "runs on either side of it; each figure is the median over the rounds.",
        f"- Code: commit {summary.get('code', 'unknown')} of this repository"
        + (" (`-dirty`: with uncommitted changes)." if summary.get("code", "").endswith("-dirty") else "."),
        f"- Load: wrk, {summary['wrk']}, one URL after another in each round, signed in as an analyst, "
        "with `X-Forwarded-Proto: https`; gunicorn with gunicorn.conf.py and production settings (DEBUG off).",
        "- Queries: counted by a separate request through Django's test client against the same database. "
        "First ms: that client's first request for the URL, alone and in-process, before the page was cached "
        "(the timeline's was drawn once already, to read its ETag).",
        "",
    ]
    for scale in summary["scales"]:
        lines += render_scale(scale) + render_soak(scale)
    lines += render_targets(summary["scales"])
    return "\n".join(lines)


def machine_load(summary):
    """What the load averages say about the run; the run's own load shows in the figures after it."""
    before, after = fmt_load(summary["load_average_before"]), fmt_load(summary["load_average_after"])
    if summary["load_average_before"][0] > 1:
        return (
            f"Other processes shared the machine (load average {before} before the run, {after} after), "
            "so absolute figures are noisy."
        )
    return f"The machine was otherwise idle (load average {before} before the run; {after} after, from the run itself)."


def fmt_load(values):
    return " / ".join(f"{value:.1f}" for value in values)


def first_ms(entry):
    """The first request's time, in-process and alone, before anything was cached for it (older runs lack it)."""
    return f"{entry['first_ms']:,.0f}" if "first_ms" in entry else ""


def spread(entry):
    """The lowest and highest of a URL's per-round ratios to /healthz: how much the machine moved."""
    ratios = entry.get("vs_healthz_rounds") or [entry["vs_healthz"]]
    return f"{min(ratios):.2f}–{max(ratios):.2f}" if len(ratios) > 1 else f"{ratios[0]:.2f}"


def render_scale(scale):
    seeded = (
        f"seeded in {scale['seed_seconds'] / 60:.1f} min"
        if scale.get("seed_seconds")
        else "template reused (seeded before)"
    )
    lines = [
        f"### {scale['agreements']:,} agreements ({seeded})",
        "",
        "| URL | status | req/s | p50 ms | p95 ms | p99 ms | max ms | queries | first ms | × healthz "
        "| rounds × healthz | × static |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for entry in scale["urls"]:
        bad = f" ({entry['bad_status']} non-2xx/3xx)" if entry["bad_status"] else ""
        if entry["socket_errors"]:
            bad += f" ({entry['socket_errors']} socket errors)"
        if not entry["requests"]:
            lines.append(
                f"| {entry['name']} | {entry['served_status']}{bad} | 0 | no response within the run "
                f"| | | | {entry['queries']} | {first_ms(entry)} | 0 | {spread(entry)} | 0 |"
            )
            continue
        lines.append(
            f"| {entry['name']} | {entry['served_status']}{bad} | {entry['rps']:,.0f} | {entry['p50_ms']:.1f} "
            f"| {entry['p95_ms']:.1f} | {entry['p99_ms']:.1f} | {entry['max_ms']:.0f} | {entry['queries']} "
            f"| {first_ms(entry)} | {entry['vs_healthz']:.2f} | {spread(entry)} | {entry['vs_static']:.2f} |"
        )
    lines += [
        "",
        f"Worker memory (RSS, MB): {fmt_list(scale['memory_before_mb'])} after one request per URL; "
        f"{fmt_list(scale['memory_after_mb'])} after the load runs.",
        "",
    ]
    return lines


def fmt_list(values):
    return ", ".join(f"{value:.0f}" for value in values) or "none"


def render_soak(scale):
    """The soak run's load and each sample of the workers' memory; nothing for a scale without one."""
    if not (soak := scale.get("soak")):
        return []
    load = soak["load"]
    failed = f"{load['bad_status']} non-2xx/3xx, {load['socket_errors']} socket errors"
    lines = [
        f"### Soak: {soak['seconds']} s at {scale['agreements']:,} agreements, workers never recycled",
        "",
        f"Every URL above in turn, `GUNICORN_MAX_REQUESTS=0`: {load['requests']:,} requests, "
        f"{load['rps']:,.0f} req/s, p50 {load['p50_ms']:.0f} ms, p99 {load['p99_ms']:.0f} ms; {failed}.",
        "",
        "| after | worker RSS, MB | largest |",
        "|--:|---|--:|",
    ]
    for sample in soak["samples"]:
        sizes = sorted(sample["rss_mb"])
        lines.append(f"| {sample['seconds']} s | {fmt_list(sizes)} | {max(sizes, default=0):.0f} |")
    return [*lines, ""]


def render_targets(scales):
    """Issue 6, item 3: each target with the figures that meet or miss it."""
    by_scale = {scale["scale"]: {entry["key"]: entry for entry in scale["urls"]} for scale in scales}
    names = list(by_scale)
    rows = []

    keys = [entry["key"] for entry in scales[0]["urls"] if entry["key"] not in NOT_PAGES]
    varying = [
        f"{key} ({' / '.join(str(by_scale[s][key]['queries']) for s in names)})"
        for key in keys
        if len({by_scale[s][key]["queries"] for s in names}) > 1
    ]
    rows.append(("same queries per request at every scale", "; ".join(varying) or "all equal", not varying, "per URL"))
    for key, floor in (
        ("timeline-median", 0.5),
        ("timeline-largest", 0.5),
        ("poll-204", 0.9),
        ("revalidation-304", 0.9),
    ):
        ratios = [by_scale[s][key]["vs_healthz"] for s in names]
        rows.append(
            (f"{key} ≥ {floor} × /healthz req/s", " / ".join(f"{r:.2f}" for r in ratios), min(ratios) >= floor, "")
        )
    if len(names) > 1:
        first, last = names[0], names[-1]
        for key in ("search-rare", "search-absent"):
            ratio = by_scale[last][key]["p95_ms"] / by_scale[first][key]["p95_ms"]
            rows.append(
                (
                    f"{key} p95 at {last} ≤ 1.5 × at {first}",
                    f"{by_scale[last][key]['p95_ms']:.0f} ms vs {by_scale[first][key]['p95_ms']:.0f} ms ({ratio:.2f}×)",
                    ratio <= 1.5,
                    "",
                )
            )
    common = [by_scale[s]["search-common"]["p95_ms"] for s in names]
    rows.append(("search-common p95 < 300 ms", " / ".join(f"{p:.0f} ms" for p in common), max(common) < 300, ""))
    slow = [
        f"{key} at {s}: " + (f"p99 {entry['p99_ms']:.0f} ms" if entry["requests"] else "none answered in the run")
        for s in names
        for key, entry in by_scale[s].items()
        if key not in NOT_PAGES and (entry["p99_ms"] > 1000 or not entry["requests"])
    ]
    rows.append(("no page over 1 s (p99)", "; ".join(slow) or "none over 1 s", not slow, ""))
    heaviest = max(max(scale["memory_after_mb"] or [0]) for scale in scales)
    rows.append(("worker memory < 150 MB", f"largest worker {heaviest:.0f} MB", heaviest < 150, ""))
    for scale in scales:
        if soak := scale.get("soak"):
            first, last = (max(sample["rss_mb"]) for sample in (soak["samples"][1], soak["samples"][-1]))
            peak = max(max(sample["rss_mb"]) for sample in soak["samples"])
            rows.append(
                (
                    f"worker memory flat over a long run ({soak['seconds']} s at {scale['scale']})",
                    f"largest worker {first:.0f} MB after {soak['samples'][1]['seconds']} s, "
                    f"{last:.0f} MB at the end, {peak:.0f} MB at most",
                    peak < 150 and last <= first * 1.1,
                    "",
                )
            )

    lines = [
        "### Targets (issue 6, item 3)",
        "",
        f"Scales in order: {' / '.join(names)}.",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    lines += [f"| {target} | {measured} | {'yes' if met else '**no**'} |" for target, measured, met, _ in rows]
    lines.append("")
    return lines

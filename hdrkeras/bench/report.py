"""python -m hdrkeras.bench.report FILE.jsonl

Summarises one benchmark session (the JSON lines of `hdrkeras.bench --json`,
`hdrkeras.bench.official --json` and `hdrkeras.bench.host --json`, as written by
scripts/bench_backbones.sh) as a Markdown table: per backbone, the median over rounds of
each round's median for hdrkeras and for the official code, their ratio and peak RSS, and
the host matmul rates that bracketed the session with the CPU and the vector ISA oneDNN
used (AVX-512 or not changes the conv backbones' speed several-fold). Rounds alternate the
two, so drift of the shared host falls on both alike.
"""

import json

import numpy as np

from hdrkeras.bench.host import describe
from hdrkeras.errors import ConfigError, DataError


def read_session(path):
    """(host records {"gflops", "cpu", "isa", ...}, {(backbone, implementation): [result,
    ...]}) from a .jsonl."""
    hosts, groups = [], {}
    try:
        with open(path) as f:
            lines = [ln for ln in f if ln.strip()]
    except OSError as e:
        raise DataError(f"{path}: cannot read benchmark session ({e.strerror})") from None
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{number}: not a JSON line ({e.msg})") from None
        if "gflops" in record:
            hosts.append(record)
            continue
        if "median_ms" not in record:
            raise DataError(f"{path}:{number}: neither a benchmark nor a host-rate result")
        backbone = record.get("backbone", record["method"])
        implementation = record.get("implementation",
                                    "hdrkeras --xla" if record.get("xla") else "hdrkeras")
        groups.setdefault((backbone, implementation), []).append(record)
    return hosts, groups


def _seconds(results):
    per_round = [r["median_ms"] / 1000.0 for r in results]
    return float(np.median(per_round)), per_round


def markdown(hosts, groups):
    """The session's table (see module docstring)."""
    lines = ["| backbone | params | hdrkeras | official PyTorch | official / hdrkeras | "
             "peak RSS hdrkeras / official |",
             "|---|---:|---:|---:|---:|---:|"]
    for backbone in dict.fromkeys(b for b, _ in groups):
        ours, theirs = groups.get((backbone, "hdrkeras")), groups.get((backbone, "official"))
        cells = [backbone, f"{(ours or theirs)[0]['params']:,}"]
        medians, rss = [], []
        for results in (ours, theirs):
            if not results:
                cells.append("")
                continue
            median, per_round = _seconds(results)
            medians.append(median)
            cells.append(f"{median:.2f} s ({', '.join(f'{t:.2f}' for t in per_round)})")
            rss.append(f"{max(r['peak_rss_mb'] for r in results):,.0f} MB")
        ratio = f"{medians[1] / medians[0]:.1f}x" if ours and theirs else ""
        cells += [ratio, " / ".join(rss)]
        lines.append("| " + " | ".join(cells) + " |")
    if hosts:
        kinds = dict.fromkeys(describe(h) if "isa" in h else "CPU and ISA not recorded"
                              for h in hosts)
        lines.append("")
        lines.append("Host matmul rate (2048², float32) at the start and end of the session: "
                     + ", ".join(f"{h['gflops']:.0f}" for h in hosts) + " GFLOP/s; "
                     + "; ".join(kinds) + ".")
    return "\n".join(lines)


def main(argv):
    if len(argv) != 2:
        raise ConfigError("usage: python -m hdrkeras.bench.report FILE.jsonl")
    print(markdown(*read_session(argv[1])))
    return 0


if __name__ == "__main__":
    from hdrkeras import cli

    cli.run_main(main)

"""Check bookkeeping shared by the interop scripts: every check is printed as it
runs and kept in RESULTS, which each script sums into its closing
'N passed, N failed' line."""

RESULTS: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> bool:
    RESULTS.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'} {name}{'' if ok else ': ' + detail}", flush=True)
    return ok


def eq(name: str, actual, expected) -> bool:
    return check(name, actual == expected, f"got {actual!r}, expected {expected!r}")

"""Dependency audit for CI: pip-audit over the project's virtual environment.

Fails when any installed package has a known vulnerability (pip-audit exits 1) or pip-audit
itself cannot run. Prints how many packages were actually checked: the vulnerability data
comes from PyPI's per-release JSON API, and a package registry mirror that does not serve it
makes pip-audit skip packages ("not found on PyPI") instead of failing. For those, the
project-level JSON (``/pypi/<name>/json``) is asked instead: its ``vulnerabilities`` list is
about the latest release, so it counts only where the installed version *is* the latest.
Whatever is still unchecked is listed, so a green run is never mistaken for a clean audit.

    .venv/bin/python .ci/audit.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
ACCEPTED = Path(__file__).with_name("audit-accepted.toml")


def latest_release_vulns(name: str, version: str) -> list[dict[str, object]] | None:
    """Known vulnerabilities of ``name==version`` from PyPI's project JSON, or ``None`` when
    that cannot tell (unreachable, or the installed version is not the latest release)."""
    try:
        with urllib.request.urlopen(f"https://pypi.org/pypi/{name}/json", timeout=20) as response:
            data = json.load(response)
    except (OSError, ValueError):
        return None
    if data.get("info", {}).get("version") != version:
        return None
    vulns: list[dict[str, object]] = data.get("vulnerabilities") or []
    return vulns


def main() -> int:
    cmd = [str(VENV_BIN / "pip-audit"), "--format", "json", "--progress-spinner", "off", "--skip-editable"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        print(proc.stdout[-2000:], proc.stderr[-4000:], sep="\n", file=sys.stderr)
        print(f"audit: pip-audit failed to run (exit {proc.returncode})", file=sys.stderr)
        return 2
    deps = report.get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    skipped = []
    for dep in (d for d in deps if "skip_reason" in d):
        version = dep["skip_reason"].rsplit("(", 1)[-1].rstrip(")")
        vulns = latest_release_vulns(dep["name"], version)
        if vulns is None:
            skipped.append(dep)
        else:
            audited.append({"name": dep["name"], "version": version, "vulns": vulns})
    accepted = tomllib.loads(ACCEPTED.read_text()) if ACCEPTED.is_file() else {}
    new = 0
    for dep in audited:
        known = set(accepted.get(dep["name"].lower(), {}).get("ids", []))
        for vuln in dep.get("vulns") or []:
            fixes = ", ".join(vuln.get("fix_versions") or vuln.get("fixed_in") or []) or "no fixed release"
            status = "accepted (see .ci/audit-accepted.toml)" if vuln["id"] in known else "NEW"
            new += vuln["id"] not in known
            print(f"audit: {dep['name']} {dep['version']}: {vuln['id']} ({fixes}) - {status}")
    print(f"audit: {len(audited)} packages checked, {new} new vulnerabilities, {len(skipped)} not checked")
    if skipped:
        print(
            "audit: WARNING: not checked (no vulnerability data reachable for the installed "
            "version): " + ", ".join(f"{d['name']}" for d in skipped),
            file=sys.stderr,
        )
    return 1 if new or proc.returncode not in (0, 1) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Builds the wheelhouse a box installs Gembok from: its wheel, built from this checkout,
and every dependency as a wheel for the box's Python and platform.

The box then installs with `pip --no-index`: it needs no package index, and what runs
there is exactly what was resolved here. The dependencies are fetched for the box
(CPython 3.11 on glibc 2.36, Debian 12), not for the machine running Ansible, so a
controller of another kind works too. Gembok's wheel is reproducible (SOURCE_DATE_EPOCH):
an unchanged checkout gives the same bytes, which is what lets a second playbook run
change nothing. Prints one JSON line: {"changed": true|false, "wheels": N}.

    python ansible/wheelhouse.py --checkout . --out build/wheelhouse
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

SOURCES = ("pyproject.toml", "README.md", "appliance", "webui", "tui")  # what the wheel needs
EPOCH = "1767225600"  # 2026-01-01: fixed zip timestamps, so the same source gives the same wheel


def pip(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", *args], text=True,
                          capture_output=True, **kw)  # type: ignore[call-overload]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_gembok(checkout: Path, out: Path) -> Path:
    """Gembok's own wheel, from a clean copy (no stale build/ leftovers can slip in)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in SOURCES:
            item = checkout / name
            if item.is_dir():
                shutil.copytree(item, src / name, ignore=shutil.ignore_patterns(
                    "__pycache__", "*.pyc", "*.egg-info"))
            else:
                shutil.copy2(item, src / name)
        dist = Path(tmp) / "dist"
        done = pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist), str(src),
                   env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
        if done.returncode:
            sys.exit(f"building Gembok's wheel failed:\n{done.stderr}")
        (built,) = dist.glob("gembok-*.whl")
        target = out / built.name
        if not target.exists() or sha256(target) != sha256(built):
            for old in out.glob("gembok-*.whl"):
                old.unlink()
            shutil.copy2(built, target)
        return target


def platforms(arch: str, glibc: str) -> list[str]:
    """Every manylinux tag a glibc of this version runs (pip does not widen them itself)."""
    major, minor = (int(x) for x in glibc.split("."))
    tags = [f"manylinux_{major}_{m}_{arch}" for m in range(minor, 16, -1)]
    return [*tags, f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}"]


def fetch_dependencies(wheel: Path | str, out: Path, python: str, tags: list[str]) -> set[str]:
    """Downloads a wheel's (or a requirement's) dependencies that are missing; offline when
    the wheelhouse is already complete."""
    args = ["download", "--only-binary=:all:", "--python-version", python,
            "--implementation", "cp", "--dest", str(out), "--find-links", str(out)]
    for tag in tags:
        args += ["--platform", tag]
    done = pip(*args, "--no-index", str(wheel))
    if done.returncode:
        done = pip(*args, str(wheel))
    if done.returncode:
        sys.exit(f"fetching Gembok's dependencies failed:\n{done.stderr}")
    used = {wheel.name} if isinstance(wheel, Path) else set()
    # pip names each wheel it used: "Saved /x/a.whl" or "File was already downloaded /x/a.whl"
    for line in done.stdout.splitlines():
        if line.strip().endswith(".whl"):
            used.add(Path(line.split()[-1]).name)
    return used


def _requirements(wheel: Path) -> list[str]:
    """The Requires-Dist lines of a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode("utf-8", "replace")
    return [line.split(":", 1)[1].strip() for line in metadata.splitlines()
            if line.startswith("Requires-Dist:")]


def marker_gaps(out: Path, used: set[str], python: str) -> list[str]:
    """Requirements the box's Python needs that pip left out.

    pip download takes --python-version for Requires-Python but evaluates environment
    markers against the Python running it: redis wants async-timeout below 3.11.3,
    Debian 12 has 3.11.2, a controller with 3.11.7 would not fetch it.
    """
    env = {**default_environment(), "python_full_version": python,
           "python_version": ".".join(python.split(".")[:2]),
           "implementation_version": python, "extra": ""}
    have = {canonicalize_name(parse_wheel_filename(n)[0]) for n in used}
    gaps = []
    for name in sorted(used):
        for line in _requirements(out / name):
            requirement = Requirement(line)
            if requirement.marker is None or canonicalize_name(requirement.name) in have:
                continue
            if requirement.marker.evaluate(env):
                requirement.marker = None
                gaps.append(str(requirement))
    return gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--python-version", default="3.11.2")  # Debian 12
    parser.add_argument("--arch", default="x86_64")
    parser.add_argument("--glibc", default="2.36")
    args = parser.parse_args()
    out = args.out.absolute()
    out.mkdir(parents=True, exist_ok=True)
    wheel = build_gembok(args.checkout.absolute(), out)
    tags = platforms(args.arch, args.glibc)
    used = fetch_dependencies(wheel, out, args.python_version, tags)
    while gaps := marker_gaps(out, used, args.python_version):
        for requirement in gaps:
            used |= fetch_dependencies(requirement, out, args.python_version, tags)
    if len(used) > 1:  # the output named them: anything else is an old version
        for stale in out.glob("*.whl"):
            if stale.name not in used:
                stale.unlink()
    wheels = sorted(out.glob("*.whl"))
    sums = "".join(f"{sha256(w)}  {w.name}\n" for w in wheels)
    listing = out / "SHA256SUMS"
    tarball = out.with_suffix(".tar")
    changed = not listing.exists() or listing.read_text() != sums or not tarball.exists()
    if changed:
        with tarfile.open(tarball.with_suffix(".tmp"), "w") as tar:
            for w in wheels:
                tar.add(w, arcname=w.name)
        tarball.with_suffix(".tmp").replace(tarball)
        listing.write_text(sums)
    print(json.dumps({"changed": changed, "wheels": len(wheels)}))


if __name__ == "__main__":
    main()

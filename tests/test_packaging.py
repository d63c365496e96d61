"""The wheel is what a production Airflow installs: the runtime package with its SQL and default
profiles as package data, and none of the development code (sandbox, demo, benchmarks)."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from project import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(out), str(ROOT)], check=True, capture_output=True, cwd=out)
    (found,) = out.glob("zoom_sam-*.whl")
    return found


def test_the_wheel_ships_the_runtime_package_and_its_data_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    packages = {n.split("/")[0] for n in names if not n.startswith("zoom_sam-")}
    assert packages == {"zoom_sam"}
    sql = {n for n in names if n.endswith(".sql")}
    on_disk = {str(p.relative_to(ROOT / "src")) for p in (ROOT / "src" / "zoom_sam" / "include" / "sql").rglob("*.sql")}
    assert sql == on_disk and len(sql) > 40
    assert "zoom_sam/include/profiles/demo.yaml" in names
    assert {"zoom_sam/ui/templates/usage.html", "zoom_sam/ui/static/zoom_sam.css"} <= set(names)  # the views' files
    assert not [n for n in names if "sandbox" in n or "bench" in n or "demo.py" in n]
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    runtime = {line.split()[1].split("<")[0].split(">")[0] for line in requires if "extra ==" not in line}
    assert {"apache-airflow", "SQLAlchemy", "pydantic", "PyYAML", "requests"} <= runtime
    assert not runtime & {"pytest", "pytest-timeout", "setuptools"}


def test_an_installed_wheel_reads_its_sql_and_profiles_without_the_checkout(wheel, tmp_path):
    """Unpacked as pip installs it (no source tree on the path), the package finds its own files."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import zoom_sam, zoom_sam.profiles as p, zoom_sam.warehouse.sql as s;"
        "assert zoom_sam.__file__.startswith(%r), zoom_sam.__file__;"
        "print(len(s.sql('reconcile/evaluate').text) > 0, p.load_profile(p.DEFAULT_PROFILES_DIR / 'demo.yaml').alias)"
    ) % str(site)
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "ZOOM_SAM_PROFILES_DIR": ""}
    done = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "demo"]

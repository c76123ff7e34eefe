"""An installed (non-editable) wheel carries everything the program needs, schemas included."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
    )
    (whl,) = out.glob("reconcile-*.whl")
    return whl


def test_wheel_holds_every_module_of_the_source_tree(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("reconcile", "schemas"):
        for source in (ROOT / package).rglob("*.py"):
            assert source.relative_to(ROOT).as_posix() in names


def test_unpacked_wheel_imports_schemas_outside_the_source_tree(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import reconcile, schemas, schemas.invoice, sys; "
        "from schemas import columns; "
        "assert reconcile.__file__.startswith(sys.argv[1]), reconcile.__file__; "
        "assert schemas.__file__.startswith(sys.argv[1]), schemas.__file__; "
        "print(columns(schemas.invoice.Clients)[0].fi)"
    )
    # Run from an empty folder with the unpacked wheel first on the path, so
    # the checkout's own packages cannot be what gets imported.
    done = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); exec({code!r})", str(site)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Päätösnumero"

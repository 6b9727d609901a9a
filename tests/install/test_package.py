"""kith installs as one `kith` package, its module seams run one way, and the wheel works on its own."""

import ast
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CORPUS_CARD = PROJECT_ROOT.parent / "shared" / "corpus" / "vcard" / "android_vcard__v21_complicated.vcf"
VOCABULARY = {"kith", "kith.records", "kith.emails", "kith.phones", "kith.names", "kith.profiles",
              "kith.organisations"}


def kith_imports(folder: Path) -> set[tuple[str, str]]:
    """(file, imported kith module) for every import of a kith module in a folder's .py files."""
    found = set()
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found.update((path.name, name) for name in names
                         if name.split(".")[0] in ("kith", "flows", "connectors", "transforms",
                                                   "warehouse", "report"))
    return found


def test_no_code_imports_the_old_top_level_names():
    stray = {(folder, file, name)
             for folder in ("kith", "flows", "connectors", "transforms", "warehouse", "report",
                            "bench", "examples", "tests")
             for file, name in kith_imports(PROJECT_ROOT / folder) if not name.startswith("kith")}
    assert stray == set()


def test_the_vocabulary_imports_nothing_else_of_kith():
    own = {(f, n) for f, n in kith_imports(PROJECT_ROOT / "kith") if n not in VOCABULARY}
    assert own == set()


def test_connectors_import_neither_warehouse_nor_transforms_nor_flows():
    wrong = {(f, n) for f, n in kith_imports(PROJECT_ROOT / "connectors")
             if n.startswith(("kith.warehouse", "kith.transforms", "kith.flows"))}
    assert wrong == set()


def test_warehouse_imports_neither_connectors_nor_transforms_nor_flows():
    wrong = {(f, n) for f, n in kith_imports(PROJECT_ROOT / "warehouse")
             if n.startswith(("kith.connectors", "kith.transforms", "kith.flows"))}
    assert wrong == set()


def test_identity_takes_its_normalisers_from_the_vocabulary_not_from_connectors():
    wrong = {(f, n) for f, n in kith_imports(PROJECT_ROOT / "transforms")
             if n.startswith("kith.connectors")}
    assert wrong == set()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # setuptools builds in the source tree (build/, *.egg-info): build from a copy of the checkout.
    source = tmp_path_factory.mktemp("source") / "kith"
    shutil.copytree(PROJECT_ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", "demo-world", "*.duckdb*"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "--disable-pip-version-check", "-w", str(out), str(source)],
                   check=True, capture_output=True, text=True, timeout=600)
    return next(out.glob("kith-*.whl"))


def test_the_wheel_holds_one_top_level_package_and_the_sql_models(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"kith"}
    assert "kith/transforms/marts/people.sql" in names
    assert "kith/transforms/staging/stg_contacts__cards.sql" in names


def test_the_wheel_holds_the_report_templates(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {f"kith/report/templates/{n}" for n in ("base.html", "network.html",
                                                        "person.html", "search.js")}
    assert templates <= names


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, Path]:
    """The wheel installed into a fresh venv outside the checkout: (its bin folder, a work dir)."""
    root = tmp_path_factory.mktemp("fresh")
    venv.create(root / "venv", with_pip=True)
    bin_dir = root / "venv" / "bin"
    proc = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q",
                           "--disable-pip-version-check", "-c", str(PROJECT_ROOT / "constraints.txt"),
                           str(wheel)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    work = root / "work"
    work.mkdir()
    return bin_dir, work


def run_installed(installed, *args) -> subprocess.CompletedProcess:
    bin_dir, work = installed
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(COLUMNS="200", PREFECT_HOME=str(work / "prefect"), DO_NOT_TRACK="1")
    return subprocess.run([str(bin_dir / "kith"), *map(str, args)], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_installed_package_is_not_the_checkout(installed):
    bin_dir, work = installed
    proc = subprocess.run([str(bin_dir / "python"), "-c",
                           "import kith, kith.transforms; print(kith.__file__, kith.transforms.__file__)"],
                          cwd=work, capture_output=True, text=True, check=True)
    assert str(PROJECT_ROOT) not in proc.stdout
    assert "site-packages" in proc.stdout


def test_installed_kith_prints_its_version_and_duckdb_and_prefect(installed):
    proc = run_installed(installed, "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("kith 0.1.0 (DuckDB 1.")
    assert "Prefect 3." in proc.stdout


def test_installed_kith_imports_queries_rebuilds_and_reports(installed):
    if not CORPUS_CARD.is_file():
        pytest.skip(f"shared corpus not found at {CORPUS_CARD.parent}")
    db = installed[1] / "w.duckdb"
    imported = run_installed(installed, "import", CORPUS_CARD, "--tag", "wheel", "--db", db)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    query = run_installed(installed, "sql", "select count(*) as n from contacts", "--format", "csv",
                          "--db", db)
    assert query.returncode == 0, query.stderr
    assert query.stdout.split() == ["n", "1"]
    rebuilt = run_installed(installed, "rebuild", "--db", db)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    status = run_installed(installed, "status", "--db", db)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "people" in status.stdout.lower()
    report = run_installed(installed, "report", "--db", db)
    assert report.returncode == 0, report.stdout + report.stderr
    page = installed[1] / "kith-report.html"
    assert (page.stat().st_mode & 0o777) == 0o600
    assert "<h1>Your network</h1>" in page.read_text(encoding="utf-8")
    assert 'aria-label="People per tier"' in page.read_text(encoding="utf-8")

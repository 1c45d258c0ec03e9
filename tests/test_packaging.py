"""The installed package is the package tested: `pip install .` ships every subpackage.

The suite imports s2sad from the checkout, so a subpackage missing from pyproject's
`packages` list (s2sad.rules.scipy_stats was, for a while) passes here and fails for
every user who installs from a wheel."""
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

tomllib = pytest.importorskip("tomllib") if sys.version_info >= (3, 11) else None


def _declared_packages():
    if tomllib is None:
        pytest.skip("tomllib is Python 3.11+")
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return set(tomllib.load(handle)["tool"]["setuptools"]["packages"])


def test_every_subpackage_of_s2sad_is_declared_for_installation():
    found = {".".join(init.parent.relative_to(ROOT).parts)
             for init in (ROOT / "s2sad").rglob("__init__.py")}
    assert found - _declared_packages() == set()


def test_every_declared_package_exists():
    for name in _declared_packages():
        assert (ROOT / name.replace(".", "/") / "__init__.py").exists(), name

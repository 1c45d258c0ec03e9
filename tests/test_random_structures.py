"""Random programs over structured arguments (tests/random_structures.py) against
autograd: every spelling of reading a dict, a list of layers or nested dicts."""
import pytest

from random_structures import check


@pytest.mark.parametrize("seed", range(40))
def test_random_structured_program_matches_autograd(seed, tmp_path):
    check(seed, tmp_path)

"""The pieces of the rule test table: a Case per call, its domains and its shapes.

tests/test_rules.py holds the table of the first rules; each tests/rule_table_*.py
module adds a TABLE of its own, and test_rules.py checks them all.
"""
from dataclasses import dataclass
from typing import Any, Sequence, Tuple

ANY = (-2.0, 2.0)
POSITIVE = (0.5, 2.0)
UNIT = (-0.8, 0.8)
ABOVE_ONE = (1.2, 3.0)

SCALARS = [()]
SHAPES_1 = [(), (3,), (2, 3)]
SHAPES_2 = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((3, 1), (1, 4)), ((2, 3), ()),
            ((), (2, 3)), ((1, 3), (2, 1))]


@dataclass
class Case:
    keys: Tuple[Any, ...]
    expression: str
    domains: Sequence[Tuple[float, float]]
    shapes: Sequence[Any]
    wrap: str = "np.sum(np.sin({}))"

    @property
    def id(self) -> str:
        return self.expression


def unary(keys, expression, domain=ANY, shapes=SHAPES_1):
    return Case(keys if isinstance(keys, tuple) else (keys,), expression, [domain], shapes)


def binary(keys, expression, domains=(ANY, ANY), shapes=SHAPES_2):
    return Case(keys if isinstance(keys, tuple) else (keys,), expression, domains, shapes)


def scalar_math(keys, expression, domains=(ANY,)):
    shapes = [()] if len(domains) == 1 else [((), ())]
    return Case(keys if isinstance(keys, tuple) else (keys,), expression, domains, shapes,
                wrap="math.sin({})")

"""Rule table for joining, splitting and creating arrays (s2sad/rules/shapes.py):
lists of active arrays in (np.concatenate, np.stack, np.array([...])) and lists of
arrays out (np.split and the parts the user indexes or unpacks).

Each expression multiplies by a fixed non-uniform array, so a piece of dy sent to
the wrong part shows.
"""
import numpy as np

from rule_cases import ANY, POSITIVE, Case, binary, unary

PAIRS = [((3,), (2,)), ((2, 3), (1, 3))]

TABLE = [
    # joining: every element of the list gets its piece
    binary(np.concatenate, "np.concatenate([a, b]) * np.arange(5.0)[:np.size(a) + np.size(b)]",
           shapes=[((3,), (2,))]),
    binary(np.concatenate, "np.concatenate((a, b * 2, a), axis=0) * np.arange(3.0)",
           shapes=[((2, 3), (1, 3))]),
    binary(np.concatenate, "np.concatenate([a, b], axis=1) * np.arange(5.0)",
           shapes=[((2, 3), (2, 2))]),
    binary(np.concatenate, "np.concatenate([a, b], axis=None) * np.arange(9.0)",
           shapes=[((2, 3), (3,))]),
    binary(np.stack, "np.stack([a, b]) * np.arange(3.0)", shapes=[((3,), (3,)), ((2, 3), (2, 3))]),
    binary(np.stack, "np.stack([a, np.sin(b), a], axis=-1) * np.arange(3.0)",
           shapes=[((2,), (2,)), ((2, 3), (2, 3))]),
    binary(np.stack, "np.stack([a, b], 1) * np.arange(3.0)[:, None]", shapes=[((3,), (3,))]),
    binary(np.hstack, "np.hstack([a, b, 1.0]) * np.arange(6.0)", shapes=[((3,), (2,)), ((), (4,))]),
    binary(np.hstack, "np.hstack((a, b)) * np.arange(5.0)", shapes=[((2, 3), (2, 2))]),
    binary(np.vstack, "np.vstack([a, b]) * np.arange(3.0)", shapes=[((3,), (3,)), ((2, 3), (1, 3))]),
    binary(np.dstack, "np.dstack([a, b]) * np.arange(2.0)", shapes=[((3,), (3,)), ((2, 3), (2, 3))]),
    binary(np.column_stack, "np.column_stack([a, b]) * np.arange(3.0)[:, None]",
           shapes=[((3,), (3,)), ((3, 2), (3,))]),
    binary(np.array, "np.array([a, b * a, 2.0]) * np.arange(3.0)", shapes=[((), ())]),
    binary(np.array, "np.array([[a, b], [b, a * b]]) * np.arange(2.0)", shapes=[((), ())]),
    binary(np.array, "np.array((a, b)) * np.arange(3.0)", shapes=[((3,), (3,))]),
    unary(np.array, "np.array(a) * a", shapes=[(3,), (2, 3)]),
    unary(np.array, "a.astype(np.float64) * 2", shapes=[(3,)]),
    unary(np.array, "a.astype(float) * a", shapes=[(3,), (2, 3)]),
    unary(np.array, "a.astype(int) * 1.0 + a", (0.2, 2.9), shapes=[(3,)]),
    unary(np.asarray, "np.asarray(a) * a", shapes=[(3,)]),
    binary(np.asarray, "np.asarray([a, b]) * np.arange(2.0)", shapes=[((), ())]),
    # splitting: the parts the user reads get dy, the others zeros
    unary(np.split, "np.split(a, 2)[1] * np.arange(2.0)", shapes=[(4,)]),
    unary(np.split, "np.split(a, [1, 3])[0] + np.sum(np.split(a, [1, 3])[2])", shapes=[(5,)]),
    unary(np.split, "np.split(a, 3, axis=1)[2] * np.arange(2.0)[:, None]", shapes=[(2, 3)]),
    unary(np.array_split, "np.array_split(a, 3)[0] * np.arange(3.0)", shapes=[(7,)]),
    unary(np.array_split, "np.array_split(a, 2)[1] * np.array_split(a, 2)[0][:3]",
          shapes=[(7,)]),
    unary(np.hsplit, "np.hsplit(a, 2)[0] * np.arange(3.0)", shapes=[(6,)]),
    unary(np.hsplit, "np.hsplit(a, 3)[1] * np.arange(2.0)[:, None]", shapes=[(2, 3)]),
    unary(np.vsplit, "np.vsplit(a, 2)[1] * np.arange(3.0)", shapes=[(4, 3)]),
    unary(np.dsplit, "np.dsplit(a, 2)[0] * np.arange(2.0)[:, None, None]", shapes=[(2, 2, 4)]),
    # creation: an array filled with, or spaced between, active values
    unary(np.full, "np.full((2, 3), a) * np.arange(3.0)", shapes=[(), (3,), (1, 3)]),
    unary(np.full, "np.full(3, fill_value=a) * np.arange(3.0)", shapes=[()]),
    unary(np.full_like, "np.full_like(np.ones((2, 3)), a) * np.arange(3.0)", shapes=[(), (3,)]),
    binary(np.linspace, "np.linspace(a, b, 5) * np.arange(5.0)", shapes=[((), ())]),
    binary(np.linspace, "np.linspace(a, b, num=4, endpoint=False) * np.arange(4.0)",
           shapes=[((), ())]),
]

# issue 18: np.append in its keyword spellings, np.row_stack (where NumPy still has it),
# np.linalg.norm of a list (np.asarray of it)
TABLE += [
    binary(np.append, "np.append(arr=a, values=b * 2.0) * np.arange(6.0)",
           shapes=[((3,), (3,))]),
    binary(np.append, "np.append(a, b * 2.0) * np.arange(5.0)", shapes=[((), (2, 2))]),
    binary(np.append, "np.append(a, [b, 1.0], axis=None) * np.arange(4.0)",
           shapes=[((2,), ())]),
    binary(np.append, "np.append(a, values=b, axis=-1) * np.arange(5.0)",
           shapes=[((2, 3), (2, 2))]),
    binary(np.linalg.norm, "np.linalg.norm([a, b * 2.0, 1.0])", shapes=[((), ())]),
    binary(np.linalg.norm, "np.linalg.norm((a, b))", shapes=[((3,), (3,))]),
    binary(np.linalg.norm, "np.linalg.norm([a, b], axis=0) * np.arange(3.0)",
           shapes=[((3,), (3,))]),
    binary(np.linalg.norm, "np.linalg.norm([a, b * a], ord=3)", (POSITIVE, POSITIVE),
           shapes=[((), ())]),
]
if hasattr(np, "row_stack"):
    TABLE += [
        binary((np.row_stack,), "np.row_stack([a, b]) * np.arange(3.0)",
               shapes=[((3,), (3,)), ((2, 3), (1, 3))]),
        binary((np.row_stack,), "np.row_stack((a, np.sin(b), 2.0 * a)) * np.arange(2.0)",
               shapes=[((2,), (2,))]),
    ]

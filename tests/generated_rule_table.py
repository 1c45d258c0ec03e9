"""Rule table for the helpers generated code calls (s2sad/rules/generated.py), which a
second derivative differentiates: checked by tests/test_rules.py with the helpers in
scope (and kept out of the autograd oracle, which has no such functions)."""
from s2sad import runtime

from rule_cases import Case, unary

TABLE = [
    unary(runtime.centred_part, "centred_part(a, (2, 3)) * np.arange(3.0)",
          shapes=[(4, 5), (2, 3), (3, 6)]),
    unary(runtime.centred_in, "centred_in(a, (5, 4)) * np.arange(4.0)",
          shapes=[(2, 3), (5, 4), (4, 1)]),
    unary(runtime.broadcast_like, "broadcast_like(a, np.ones((2, 3))) * np.arange(3.0)",
          shapes=[(), (3,), (1, 3), (2, 3)]),
    unary(runtime.unbroadcast, "unbroadcast(a, np.ones(3)) * np.arange(3.0)",
          shapes=[(3,), (2, 3), (4, 1, 3)]),
    unary(runtime.unbroadcast, "unbroadcast(a, np.ones((2, 1))) * np.arange(2.0)[:, None]",
          shapes=[(2, 3)]),
    unary(runtime.unsum, "unsum(a, np.ones((2, 3))) * np.arange(3.0)", shapes=[()]),
    unary(runtime.unsum, "unsum(a, np.ones((2, 3)), 1) * np.arange(3.0)", shapes=[(2,)]),
    unary(runtime.unsum, "unsum(a, np.ones((2, 3)), 0, True) * np.arange(3.0)",
          shapes=[(1, 3)]),
    unary(runtime.unindex, "unindex(a, np.ones(4), 2) * np.arange(4.0)", shapes=[()]),
    unary(runtime.unindex, "unindex(a, np.ones(4), [0, 0, 3]) * np.arange(4.0)",
          shapes=[(3,)]),
    unary(runtime.cast_tangent, "cast_tangent(a, np.float64) * a", shapes=[(3,)]),
    unary(runtime.cast_tangent, "cast_tangent(a, int) + a", shapes=[(3,)]),
    Case((runtime.permute_tangent,),
         "permute_tangent(a, np.array([0.3, -1.0, 2.0]), np.array([-1.0, 0.3, 2.0])) "
         "* np.arange(3.0)", [(-2.0, 2.0)], [(3,)]),
]

# dA, dB of a product: linear in the output's adjoint and in the other operand
for helper in ("matmul_adjoint_a", "dot_adjoint_a"):
    TABLE += [
        Case((getattr(runtime, helper),), f"{helper}(a, np.ones((2, 3)), b) * np.arange(3.0)",
             [(-2.0, 2.0), (-2.0, 2.0)], [((2, 4), (3, 4))]),
        Case((getattr(runtime, helper),), f"{helper}(a, np.ones(3), b) * np.arange(3.0)",
             [(-2.0, 2.0), (-2.0, 2.0)], [((4,), (3, 4))]),
    ]
# np.dot beyond 2 axes: b's second-to-last axis contracted
TABLE += [
    Case((runtime.dot_adjoint_a,), "dot_adjoint_a(a, np.ones((2, 3, 4)), b) * np.arange(4.0)",
         [(-2.0, 2.0), (-2.0, 2.0)], [((2, 3, 5), (4, 5))]),
    Case((runtime.dot_adjoint_b,), "dot_adjoint_b(a, b, np.ones((5, 4, 2))) * np.arange(2.0)",
         [(-2.0, 2.0), (-2.0, 2.0)], [((2, 3, 5, 2), (2, 3, 4))]),
]
for helper in ("matmul_adjoint_b", "dot_adjoint_b"):
    TABLE += [
        Case((getattr(runtime, helper),), f"{helper}(a, b, np.ones((3, 4))) * np.arange(4.0)",
             [(-2.0, 2.0), (-2.0, 2.0)], [((2, 4), (2, 3))]),
        Case((getattr(runtime, helper),), f"{helper}(a, b, np.ones(3)) * np.arange(3.0)",
             [(-2.0, 2.0), (-2.0, 2.0)], [((2,), (2, 3))]),
    ]

TABLE += [
    unary(runtime.spread, "spread(a, np.ones((2, 3)), 1) * np.arange(6.0).reshape(2, 3)",
          shapes=[(2,)]),
    unary(runtime.spread, "spread(a, np.ones((2, 3, 4)), (0, 2)) * np.ones((2, 3, 4))",
          shapes=[(3,)]),
    unary(runtime.spread, "spread(a, np.ones((2, 3))) * np.arange(3.0)", shapes=[()]),
]

# the adjoints of the shape rules, each linear in the adjoint it moves
W3 = "np.arange(9.0).reshape(3, 3)"
TABLE += [
    unary(runtime.undiagonal, f"undiagonal(a, np.ones((3, 3))) * {W3}", shapes=[(3,)]),
    unary(runtime.undiagonal, f"undiagonal(a, np.ones((3, 3)), 1) * {W3}", shapes=[(2,)]),
    unary(runtime.undiff, "undiff(a) * np.arange(4.0)", shapes=[(3,)]),
    unary(runtime.undiff, "undiff(a, 2, 0) * np.arange(5.0)[:, None]", shapes=[(3, 2)]),
    unary(runtime.unpad, "unpad(a, np.ones(3), 1) * np.arange(3.0)", shapes=[(5,)]),
    unary(runtime.unastype, "unastype(a, np.ones(3), np.float64) * np.arange(3.0)",
          shapes=[(3,)]),
    unary(runtime.ungradient, "ungradient(a, np.ones(5)) * np.arange(5.0)", shapes=[(5,)]),
    Case((runtime.unpermute,),
         "unpermute(a, np.array([0.3, -1.0, 2.0]), np.array([-1.0, 0.3, 2.0])) "
         "* np.arange(3.0)", [(-2.0, 2.0)], [(3,)]),
    unary(runtime.unstack, "unstack(a, [np.ones(3), np.ones(3)])[1] * np.arange(3.0)",
          shapes=[(2, 3)]),
    unary(runtime.unconcatenate, "unconcatenate(a, [np.ones(2), np.ones(3)])[1] * np.arange(3.0)",
          shapes=[(5,)]),
    unary(runtime.unconcatenate,
          "unconcatenate(a, [np.ones((2, 2)), np.ones((2, 1))], 1)[0] * np.arange(2.0)",
          shapes=[(2, 3)]),
    unary(runtime.unhstack, "unhstack(a, [np.ones(2), 1.0])[0] * np.arange(2.0)", shapes=[(3,)]),
    unary(runtime.unvstack, "unvstack(a, [np.ones(3), np.ones(3)])[1] * np.arange(3.0)",
          shapes=[(2, 3)]),
    unary(runtime.undstack, "undstack(a, [np.ones(3), np.ones(3)])[0] * np.arange(3.0)",
          shapes=[(1, 3, 2)]),
    unary(runtime.uncolumn_stack,
          "uncolumn_stack(a, [np.ones(3), np.ones((3, 2))])[1] * np.arange(2.0)",
          shapes=[(3, 3)]),
    # np.inner's adjoint helpers beyond vectors
    Case((runtime.inner_adjoint_a,), "inner_adjoint_a(a, np.ones((2, 3)), b) * np.arange(3.0)",
         [(-2.0, 2.0), (-2.0, 2.0)], [((2, 4), (4, 3))]),
    Case((runtime.inner_adjoint_a,), "inner_adjoint_a(a, 1.0, b)", [(-2.0, 2.0), (-2.0, 2.0)],
         [((3,), (3,))]),
    Case((runtime.inner_adjoint_b,), "inner_adjoint_b(a, b, np.ones((4, 3))) * np.arange(3.0)",
         [(-2.0, 2.0), (-2.0, 2.0)], [((2, 4), (2, 3))]),
    # einsum's adjoint helper (issue 15: the Hessian through einsum was refused), of
    # each form (issue 17): g and an operand other than args[wrt] are differentiated
    Case((runtime.einsum_adjoint,),
         "einsum_adjoint(a, ('ij,jk->ik', np.ones((2, 3)), b), wrt=1) * np.arange(3.0)",
         [(-2.0, 2.0), (-2.0, 2.0)], [((2, 4), (3, 4))]),
    Case((runtime.einsum_adjoint,),
         "einsum_adjoint(a, ('i...j,k...j->ik...', np.ones((2, 1, 3)), b), wrt=1) "
         "* np.arange(3.0)", [(-2.0, 2.0), (-2.0, 2.0)], [((2, 5, 4), (5, 4, 3))]),
    Case((runtime.einsum_adjoint,),
         "einsum_adjoint(a, ('ij,jk->ik', b, np.ones((3, 4))), wrt=2) * np.arange(4.0)",
         [(-2.0, 2.0), (-2.0, 2.0)], [((2, 4), (2, 3))]),
    Case((runtime.einsum_adjoint,),
         "einsum_adjoint(a, ('ij,jk', b, np.ones((3, 4))), wrt=2) * np.arange(4.0)",
         [(-2.0, 2.0), (-2.0, 2.0)], [((2, 4), (2, 3))]),
    Case((runtime.einsum_adjoint,),
         "einsum_adjoint(a, ('ij,jk,kl->il', np.ones((2, 3)), b, "
         "np.arange(8.0).reshape(4, 2)), wrt=1, optimize=True) * np.arange(3.0)",
         [(-2.0, 2.0), (-2.0, 2.0)], [((2, 2), (3, 4))]),
    Case((runtime.einsum_adjoint,),
         "einsum_adjoint(a, (np.ones((3, 3)), [0, 0], b, [0, 1], [1]), wrt=0) "
         "* np.arange(9.0).reshape(3, 3)", [(-2.0, 2.0), (-2.0, 2.0)], [((2,), (3, 2))]),
]

"""Rule table for the rules the Tangent-style corpus found missing (issue 17): math's
copysign, erfc, remainder, hypot of any count, dist, radians and degrees; divmod;
np.copysign, np.float_power, np.heaviside, np.append; x.item(), x.real and x.imag.

Domains keep away from the kinks (copysign at a == 0, remainder's and divmod's jumps,
heaviside's step); a quotient of about 2 gives divmod and remainder a nonzero n.
"""
import builtins
import math

import numpy as np

from s2sad import runtime

from rule_cases import ANY, POSITIVE, binary, scalar_math, unary

NEAR_TWO = ((2.1, 2.4), (1.0, 1.05))   # a / b in (2.0, 2.4): n = 2, a % b = a - 2 b
PAIRS = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((), (3,))]

TABLE = [
    scalar_math(math.erfc, "math.erfc(a)"),
    scalar_math(math.copysign, "math.copysign(a, b)", ((0.3, 2.0), (-2.0, -0.3))),
    scalar_math(math.copysign, "math.copysign(a, b) * b", ((-2.0, -0.3), (0.3, 2.0))),
    scalar_math(math.remainder, "math.remainder(a, b)", NEAR_TWO),
    # n = 3 from 2.6 to 3.4: the remainder is negative past 3 b
    scalar_math(math.remainder, "math.remainder(a, b)", ((3.1, 3.3), (1.0, 1.02))),
    scalar_math(math.hypot, "math.hypot(a, b, 0.5)", (ANY, POSITIVE)),
    scalar_math(math.hypot, "math.hypot(a, 2.0 * b, a - b, 1.0)", (ANY, ANY)),
    scalar_math(math.hypot, "math.hypot(a)", ((-2.0, -0.3),)),
    scalar_math(math.dist, "math.dist((a, b), (0.5, -1.0))", (ANY, ANY)),
    scalar_math(math.dist, "math.dist([a, 1.0, b], [b, a * b, 0.3])", (ANY, ANY)),
    binary(math.dist, "math.dist(a, b)", shapes=[((3,), (3,))]),
    scalar_math(math.radians, "math.radians(a)"),
    scalar_math(math.degrees, "math.degrees(a) / 100"),
    binary(builtins.divmod, "divmod(a, b)[1]", NEAR_TWO, shapes=PAIRS),
    binary(builtins.divmod, "divmod(a, b)[0] * a + divmod(a, b)[1] * b", NEAR_TWO,
           shapes=[((), ())]),
    binary(np.divmod, "np.divmod(a, b)[1] * a", NEAR_TWO, shapes=PAIRS),
    binary(np.copysign, "np.copysign(a, b) * b", ((0.3, 2.0), (-2.0, -0.3))),
    binary(np.copysign, "np.copysign(a, b) * b", ((-2.0, -0.3), ANY)),
    binary(np.float_power, "np.float_power(a, b)", (POSITIVE, ANY)),
    unary(np.float_power, "np.float_power(a, 2.5)", POSITIVE),
    # a - a is exactly 0, also a step away: there heaviside is b, with slope 1 in b
    binary(np.heaviside, "np.heaviside(a, b) * a + np.heaviside(a - a, b)"),
    binary(np.append, "np.append(a, b) * np.arange(12.0)[:np.size(a) + np.size(b)]",
           shapes=[((3,), (2,)), ((2, 3), ()), ((), (2, 2))]),
    binary(np.append, "np.append(a, b, axis=0) * np.arange(3.0)", shapes=[((2, 3), (1, 3))]),
    binary(np.append, "np.append(a, b, 1) * np.arange(4.0)", shapes=[((2, 3), (2, 1))]),
    binary(np.append, "np.append(a, [b, a * b]) * np.arange(3.0)", shapes=[((), ())]),
    unary(runtime.item, "a[1].item() * a", shapes=[(3,)]),
    unary(runtime.item, "a.item() * a", shapes=[(1,), (1, 1)]),
    unary(runtime.item, "np.sum(a).item() * a", shapes=[(2, 3)]),
    unary(np.real, "a.real * a + a.imag", shapes=[(), (3,), (2, 3)]),
]

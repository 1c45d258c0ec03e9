"""The desugar stage's iterators: generators, iter(), and the zip, map, enumerate and
reversed objects, read lazily as Python reads them.

Python computes a generator's items when a consumer takes them, one by one: a list it
runs over is read then (an item appended after `gen = (...)` is seen), its element
reads the names as they are then, an item no consumer takes is never computed, and
the items are used up (a second `sum(gen)` is 0). The stage keeps that order: an
`Iterator` holds a Python generator of Statics that evaluates each item when it is
taken (`next(gen)`, one trip of an unrolled `for`, `sum(gen)` taking them all). Its
source (the outermost iterable) is evaluated where the generator is made, as Python
evaluates it.
"""
from __future__ import annotations

import builtins
import math
from typing import Any, Dict, Iterator as PyIterator, List, Optional

import gast

from .. import pytree
from ..anno import clone
from ..errors import UnsupportedSyntaxError
from .expressions import Expressions
from .values import Const, Iterator, Leaf, Static, Struct, bind_pattern

_TAKES_ITERABLE = (builtins.list, builtins.tuple, builtins.sum, builtins.max, builtins.min,
                   builtins.sorted, math.fsum, math.prod)


class Iterators(Expressions):
    """Generators and iterator objects, on top of the expressions they read."""

    def evaluate_GeneratorExp(self, node: gast.GeneratorExp) -> Static:
        if node is self.accumulating and len(node.generators) >= 1:
            # sum(... for i in range(n)) of a count known only at run time: a loop
            iterable = self.evaluate(clone(node.generators[0].iter))
            if self.source(iterable, node.generators[0].iter) is None:
                return self.dynamic(node)
            return self.generator(node, iterable)
        return self.generator(node, self.evaluate(clone(node.generators[0].iter)))

    def generator(self, node: gast.GeneratorExp, iterable: Static) -> Static:
        """`(f(v) for v in xs if ...)`: an Iterator computing each item when taken."""
        if any(g.is_async for g in node.generators):
            return self.dynamic(node)
        first = self.source(iterable, node.generators[0].iter)
        if first is None:
            self.count_unknown(node)

        def rows(generators: List[gast.comprehension], bound: Dict[str, Static],
                 items: PyIterator[Static]) -> PyIterator[Static]:
            generator = generators[0]
            for item in items:
                row = dict(bound)
                if not bind_pattern(generator.target, item, row):
                    self.refuse("this generator's target does not match its items",
                                generator.target, hint="unpack as many names as each "
                                                       "item holds")
                with self.scoped(row):
                    tests = [self.evaluate(clone(test)) for test in generator.ifs]
                if not all(isinstance(t, (Const, Struct)) for t in tests):
                    self.refuse("a generator filters on a value known only at run time",
                                generator.ifs[0], hint="sum(... for v in x if v > 0) is "
                                "a loop; or use np.where on the values")
                if not all(self.truth(t, test) for t, test in zip(tests, generator.ifs)):
                    continue
                if len(generators) == 1:
                    self.unrolling += 1  # (a walrus in it: each item in a name of its own)
                    try:
                        with self.scoped(row):
                            value = self.held(self.evaluate(clone(node.elt)), "item",
                                              node.elt)
                    finally:
                        self.unrolling -= 1
                    yield value
                    continue
                with self.scoped(row):
                    inner_iterable = self.evaluate(clone(generators[1].iter))
                    inner = self.source(inner_iterable, generators[1].iter)
                if inner is None:
                    self.count_unknown(node)
                yield from rows(generators[1:], row, inner)
        return Iterator(rows(list(node.generators), {}, first), self.runtime_depth,
                        reads_iterator=isinstance(iterable, Iterator))

    def count_unknown(self, node: gast.AST) -> None:
        try:
            self.refuse("a generator over a count known only at run time is not supported",
                        node, hint="loop and write into an array (np.zeros(n), then "
                                   "y[i] = ...)")
        except UnsupportedSyntaxError as exc:
            exc.run_time_count = True  # (the call may compile again for its shapes)
            raise

    def source(self, iterable: Static, where: gast.AST) -> Optional[PyIterator[Static]]:
        """The items a loop over `iterable` takes, each read when it is taken (a list's
        item as it is then, its length checked then, as a list iterator does); None
        where the count is known only at run time."""
        if isinstance(iterable, Iterator):
            return self.taken_from(iterable, where)
        if isinstance(iterable, Struct) and iterable.view_of is not None and \
                iterable.view_of[1] in ("items", "keys", "values"):
            return self.live_view(iterable, where)
        if isinstance(iterable, Struct) and iterable.kind == pytree.LIST and \
                iterable.view_of is None:
            iterable.iterated = True

            def live() -> PyIterator[Static]:
                k = 0
                while k < len(iterable.items):
                    yield iterable.items[k]
                    k += 1
            return live()
        items = self.iterated(iterable, where)
        if items is None and self.known_range(iterable) is not None:
            items = [Const(k) for k in self.known_range(iterable)]
        if items is None and isinstance(iterable, Leaf):
            rows = self.known_rows(iterable, where)
            items = rows.items if rows is not None else None
        return iter(items) if items is not None else None

    def live_view(self, view: Struct, where: gast.AST) -> PyIterator[Static]:
        """An iterator over d.items() / d.keys() / d.values(): each entry read from the
        dict when taken (a value set since is seen); a dict that changed size since is
        Python's RuntimeError, refused here."""
        receiver, name = view.view_of
        receiver.iterated = True
        size = len(receiver.keys)

        def taken() -> PyIterator[Static]:
            k = 0
            while k < len(receiver.keys):
                if len(receiver.keys) != size:
                    self.refuse("this dict changed size while an iterator runs over it "
                                "(Python raises RuntimeError)", where,
                                hint="iterate over a copy: list(d.items())")
                key, value = receiver.keys[k], receiver.items[k]
                yield Struct(pytree.TUPLE, None, [0, 1], [Const(key), value],
                             loop_depth=self.loop_depth) if name == "items" else \
                    Const(key) if name == "keys" else value
                k += 1
        return taken()

    def taken_from(self, iterator: Iterator, where: gast.AST) -> PyIterator[Static]:
        """The iterator's own items, taken here. Taken in a branch decided at run time
        (not the one it was made in), it may be taken there again, but not after the
        branch nor in another: how far it went is known only at run time. Taken in a
        loop of a run-time count: refused (each trip takes more)."""
        entered = self.blocks[iterator.depth:]
        if any(loop for _, loop in entered):
            self.refuse("an iterator made outside this loop (whose count of trips is known "
                        "only at run time) is used in it", where,
                        hint="make a list of it first: items = list(...)")
        branch = entered[0][0] if entered else None
        if iterator.taken_in is not None and iterator.taken_in != branch:
            self.refuse("an iterator taken from in a branch decided at run time is used "
                        "after it or in another branch", where,
                        hint="make a list of it first: items = list(...)")
        iterator.taken_in = branch
        return iterator.items

    def taken_all(self, iterator: Iterator, where: gast.AST) -> List[Static]:
        return list(self.taken_from(iterator, where))

    def iterator_call(self, function: Any, args: List[Static], keywords: Dict[str, Static],
                      node: gast.Call) -> Optional[Static]:
        """iter, next, zip, map, enumerate and reversed as Python's lazy objects, and
        the builtins that take every item of an iterator (sum(gen), list(gen))."""
        if function is builtins.next and len(args) in (1, 2) and not keywords and \
                isinstance(args[0], Iterator):
            item = next(self.taken_from(args[0], node), None)
            if item is None:
                if len(args) == 2:
                    return args[1]
                self.refuse("next() of an iterator whose items are used up (StopIteration)",
                            node, hint="give next() a default: next(it, 0.0)")
            return item
        if function is builtins.iter and len(args) == 1 and not keywords:
            items = self.source(args[0], node)
            if items is None:
                self.count_unknown(node)
            return Iterator(items, self.runtime_depth,
                            reads_iterator=isinstance(args[0], Iterator))
        if function is builtins.reversed and len(args) == 1 and not keywords and \
                isinstance(args[0], Struct) and args[0].kind == pytree.LIST:
            return Iterator(self.reversed_list(args[0]), self.runtime_depth)
        if function in (builtins.zip, builtins.map, builtins.enumerate) and args and \
                all(isinstance(a, (Iterator, Struct)) or isinstance(a, Leaf) and
                    self.wants_rows for a in (args[1:] if function is builtins.map else
                                              args[:1] if function is builtins.enumerate
                                              else args)):
            return self.lazy_object(function, args, keywords, node)
        if function in _TAKES_ITERABLE and args and isinstance(args[0], Iterator):
            items = self.taken_all(args[0], node)
            listed = Struct(pytree.LIST, None, list(range(len(items))), items,
                            loop_depth=self.loop_depth)
            return self.builtin_call(function, [listed] + list(args[1:]), keywords, node)
        if function is builtins.dict and len(args) == 1 and isinstance(args[0], Iterator):
            pairs = self.taken_all(args[0], node)  # (dict(zip(names, values)))
            if all(isinstance(p, Struct) and len(p.items) == 2 and isinstance(
                    p.items[0], Const) and type(p.items[0].value) in (str, int)
                    for p in pairs):
                made = Struct(pytree.DICT, None, [], [], loop_depth=self.loop_depth)
                for pair in pairs:
                    key, value = pair.items
                    if key.value in made.keys:
                        made.items[made.keys.index(key.value)] = value
                    else:
                        made.keys.append(key.value)
                        made.items.append(value)
                for key, value in keywords.items():
                    made.keys.append(key)
                    made.items.append(value)
                return made
        if function in (builtins.any, builtins.all) and len(args) == 1 and not keywords \
                and isinstance(args[0], Iterator):
            return self.decided(function, args[0], node)
        return None

    def reversed_list(self, listed: Struct) -> PyIterator[Static]:
        """reversed(lst): from its last item when made, each read when taken."""
        listed.iterated = True
        start = len(listed.items) - 1

        def taken(k: int) -> PyIterator[Static]:
            while 0 <= k < len(listed.items):
                yield listed.items[k]
                k -= 1
        return taken(start)

    def lazy_object(self, function: Any, args: List[Static], keywords: Dict[str, Static],
                    node: gast.Call) -> Static:
        """zip / map / enumerate of an iterator: an iterator taking from its sources as
        it is taken from (zip takes from each source in order and stops at the first
        used up, as Python's does)."""
        if keywords.keys() - ({"start"} if function is builtins.enumerate else set()):
            return None
        sources = []
        for arg in args[1:] if function is builtins.map else args[:1] \
                if function is builtins.enumerate else args:
            items = self.source(arg, node)
            if items is None:  # (the comprehension over it decides: a loop, or refused)
                return None
            sources.append(items)
        start = keywords.get("start", args[1] if function is builtins.enumerate and
                             len(args) > 1 else Const(0))
        if not isinstance(start, Const):
            return None

        def produced() -> PyIterator[Static]:
            count = start.value
            while True:
                row = []
                for items in sources:
                    item = next(items, None)
                    if item is None:
                        return
                    row.append(item)
                if function is builtins.enumerate:
                    row = [Const(count)] + row
                    count += 1
                if function is builtins.map:
                    yield self.mapped_call(node, row)
                else:
                    yield Struct(pytree.TUPLE, None, list(range(len(row))), row,
                                 loop_depth=self.loop_depth)
        return Iterator(produced(), self.runtime_depth,
                        reads_iterator=any(isinstance(a, Iterator) for a in args))

    def mapped_call(self, node: gast.Call, row: List[Static]) -> Static:
        """f(item, ...) of map(f, ...), read where it is taken."""
        call = gast.copy_location(gast.Call(func=clone(node.args[0]), args=[
            self.materialize(self.held(v, "item", node), node) for v in row],
            keywords=[]), node)
        return self.held(self.evaluate(call), "mapped", node)

    def decided(self, function: Any, iterator: Iterator, node: gast.Call) -> Static:
        """any(gen) / all(gen): items taken until one decides, as Python stops there;
        an item known only at run time would decide only then: refused."""
        taken = self.taken_from(iterator, node)
        for item in taken:
            if isinstance(item, (Const, Struct)):
                if self.truth(item, node) == (function is builtins.any):
                    return Const(function is builtins.any)
                continue
            if iterator.named or iterator.reads_iterator:  # (where it stops is run-time)
                self.refuse(f"{function.__name__}() of a generator held in a name, of values "
                            "known only at run time", node,
                            hint=f"{function.__name__}([...]) of a list of the values")
            rest = [item] + list(taken)  # (made here, nothing else takes from it)
            node.args = [gast.copy_location(gast.List(elts=[
                self.materialize(i, node) for i in rest], ctx=gast.Load()), node)]
            return Leaf(node)
        return Const(function is builtins.all)


__all__ = ["Iterators"]

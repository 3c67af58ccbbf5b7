"""Cache keys that cover code: a strict fingerprint of everything a task depends on.

:func:`fingerprint` turns a value into a JSON-able description that changes whenever the value,
or the code behind it, could change a task's answer:

- plain data (numbers, strings, containers, numpy arrays, pandas objects) by content;
- an object by its class and its state: for scikit-learn style objects (``get_params``) the
  parameters and public attributes, otherwise every attribute (``__dict__``/``__slots__``),
  recursively, so nested estimator and rule objects are covered;
- a class or function by its code. Library code (the standard library, installed packages) is
  keyed by package version and rwafolio by :func:`~rwafolio.tasks.cache.code_version`. User code
  is keyed by the source file of its module, the source files of the user modules that module
  imports from (transitively), and the compiled code of the class's methods or of the function
  as they are in memory (so a file edited on disk but not re-imported cannot pass for the code
  that ran).

What cannot be keyed raises :class:`Unkeyable`, naming where in the value it sits and why: a
lambda, a closure (its captured variables are invisible), a function or class defined inside a
function, code whose source file cannot be read, an object with no inspectable state. The task
cache does not cache such tasks and warns once (:class:`CacheWarning`).
"""

from __future__ import annotations

import datetime
import decimal
import enum
import fractions
import functools
import hashlib
import importlib.metadata
import inspect
import json
import os
import sys
import sysconfig
import types
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from functools import lru_cache
from pathlib import Path, PurePath
from typing import Any

import numpy as np

#: Deepest nesting :func:`fingerprint` follows before giving up (a value that deep is suspect).
MAX_DEPTH = 60


#: Value types whose ``repr`` is complete and deterministic.
_BY_REPR: tuple[type, ...] = (
    datetime.date, datetime.time, datetime.timedelta, np.datetime64, np.timedelta64,
    range, slice, PurePath, decimal.Decimal, fractions.Fraction,
)  # fmt: skip


class CacheWarning(UserWarning):
    """The task cache did not cache something, or rejected an entry (the run is still correct)."""


class Unkeyable(Exception):
    """A value that no cache key can describe faithfully.

    Attributes
    ----------
    where : str
        Path to the part of the value (``"context.prototype.risk_aversion"``).
    why : str
        What it is and why it cannot be keyed (``"a lambda"``).
    """

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where = where
        self.why = why


def fingerprint(value: Any, where: str = "value") -> Any:
    """A JSON-able description of ``value`` that covers its data and its code.

    Parameters
    ----------
    value : Any
    where : str
        Name of ``value`` in error messages.

    Returns
    -------
    JSON-able nested lists, strings and numbers (hash it with ``json.dumps``).

    Raises
    ------
    Unkeyable
        Some part of ``value`` cannot be keyed (see the module docstring).
    """
    walker = _Walker()
    described = walker.walk(value, where, 0)
    # every user module met on the way, with the user modules they import (transitively)
    return [described, walker.user_modules()]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    roots.update(
        p for p in sys.path if p.rstrip(os.sep).endswith(("site-packages", "dist-packages"))
    )
    return tuple(sorted(os.path.realpath(r) + os.sep for r in roots))


@lru_cache(maxsize=1)
def _distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


@lru_cache(maxsize=4096)
def _library_identity(name: str, file: str | None) -> tuple[str, ...] | None:
    """("library", package, version) for library code, None for user code."""
    top = name.split(".")[0]
    if top == "rwafolio":
        from rwafolio.tasks.cache import code_version

        return ("rwafolio", code_version())
    if file is None:
        if name in sys.builtin_module_names or top in sys.builtin_module_names:
            return ("builtin", top, sys.version)
        return None
    real = os.path.realpath(file)
    if not real.startswith(_library_roots()):
        return None
    dists = _distributions().get(top, [])
    if dists:
        versions = []
        for d in sorted(dists):
            try:
                versions.append(f"{d}=={importlib.metadata.version(d)}")
            except importlib.metadata.PackageNotFoundError:
                versions.append(f"{d}==?")
        return ("library", top, ",".join(versions))
    if top in getattr(sys, "stdlib_module_names", ()):
        return ("stdlib", top, sys.version)
    return ("library-file", name, _sha(Path(real).read_bytes()))


def _code_digest(code: types.CodeType) -> str:
    """Structural hash of compiled code (bytecode, constants, names), line numbers left out."""
    h = hashlib.sha256()

    def feed(c: types.CodeType) -> None:
        h.update(c.co_code)
        h.update(
            repr(
                (c.co_argcount, c.co_posonlyargcount, c.co_kwonlyargcount, c.co_flags,
                 c.co_names, c.co_varnames, c.co_freevars, c.co_cellvars, c.co_qualname)
            ).encode()
        )  # fmt: skip
        for k in c.co_consts:
            if isinstance(k, types.CodeType):
                feed(k)
            elif isinstance(k, frozenset):
                h.update(repr(sorted(repr(x) for x in k)).encode())
            else:
                h.update(repr((type(k).__name__, k)).encode())

    feed(code)
    return h.hexdigest()


def _plain_function(obj: Any) -> types.FunctionType | None:
    """The Python function behind a method-like class attribute (None if it is not one)."""
    if isinstance(obj, staticmethod | classmethod):
        obj = obj.__func__
    if isinstance(obj, property):
        obj = obj.fget
    while hasattr(obj, "__wrapped__"):
        obj = obj.__wrapped__
    return obj if isinstance(obj, types.FunctionType) else None


class _Walker:
    """One fingerprint computation: cycle guard and memo of user modules."""

    def __init__(self) -> None:
        self.active: set[int] = set()
        self.modules: dict[str, Any] = {}

    # ---- code ------------------------------------------------------------------------------
    def module(self, name: str, where: str) -> Any:
        """Identity of module ``name``: library version, or user source (with its user imports)."""
        if name in self.modules:
            return self.modules[name]
        mod = sys.modules.get(name)
        if mod is None:
            raise Unkeyable(where, f"its module {name!r} is not imported")
        file = getattr(mod, "__file__", None)
        lib = _library_identity(name, file)
        if lib is not None:
            self.modules[name] = list(lib)
            return self.modules[name]
        try:
            src = inspect.getsourcefile(mod)
            text = Path(src).read_bytes() if src else None
        except (TypeError, OSError):
            text = None
        if text is None:
            raise Unkeyable(where, f"the source of its module {name!r} is not available")
        self.modules[name] = ["user", name, _sha(text)]
        for other in sorted(self._imports(mod)):  # helpers the module uses, from other files
            self.module(other, f"{where} (module {name!r} imports {other!r})")
        return self.modules[name]

    @staticmethod
    def _imports(mod: types.ModuleType) -> set[str]:
        out = set()
        for v in list(vars(mod).values()):
            other = v.__name__ if isinstance(v, types.ModuleType) else None
            if other is None and isinstance(v, type | types.FunctionType):
                other = getattr(v, "__module__", None)
            if isinstance(other, str) and other != mod.__name__ and other in sys.modules:
                out.add(other)
        return out

    def user_modules(self) -> list[Any]:
        return [self.modules[k] for k in sorted(self.modules) if self.modules[k][0] == "user"]

    def function(self, fn: types.FunctionType, where: str) -> Any:
        qual = fn.__qualname__
        if fn.__name__ == "<lambda>":
            raise Unkeyable(where, f"a lambda ({fn.__module__}.{qual}); use a def at module level")
        if fn.__closure__:
            names = ", ".join(fn.__code__.co_freevars)
            raise Unkeyable(where, f"{fn.__module__}.{qual} is a closure over ({names})")
        if "<locals>" in qual:
            raise Unkeyable(where, f"{fn.__module__}.{qual} is defined inside a function")
        mod = self.module(fn.__module__, where)
        out: list[Any] = ["function", fn.__module__, qual, mod]
        if mod[0] == "user":
            out.append(_code_digest(fn.__code__))
        out.append(self.walk(fn.__defaults__, f"{where}.__defaults__", 1))
        out.append(self.walk(fn.__kwdefaults__, f"{where}.__kwdefaults__", 1))
        return out

    def cls(self, c: type, where: str) -> Any:
        qual = c.__qualname__
        if "<locals>" in qual:
            raise Unkeyable(where, f"class {c.__module__}.{qual} is defined inside a function")
        out: list[Any] = ["class", c.__module__, qual]
        for base in c.__mro__:
            if base is object:
                continue
            mod = self.module(base.__module__, f"{where} (class {base.__qualname__})")
            if mod[0] != "user":
                out.append([base.__module__, base.__qualname__, mod])
                continue
            methods = {}
            for name, attr in sorted(vars(base).items()):
                f = _plain_function(attr)
                if f is not None:
                    methods[name] = _code_digest(f.__code__)
                elif isinstance(attr, bool | int | float | str | type(None)):
                    methods[name] = repr(attr)
            out.append([base.__module__, base.__qualname__, mod, sorted(methods.items())])
        return out

    # ---- values ----------------------------------------------------------------------------
    def walk(self, v: Any, where: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise Unkeyable(where, f"nested more than {MAX_DEPTH} levels deep")
        if v is None or isinstance(v, bool | str):
            return v
        if isinstance(v, int | float | complex | np.number | np.bool_):
            return [type(v).__name__, repr(v.item() if isinstance(v, np.generic) else v)]
        if isinstance(v, bytes | bytearray):
            return ["bytes", _sha(bytes(v))]
        if isinstance(v, _BY_REPR):
            return [type(v).__qualname__, repr(v)]
        simple = self._simple(v, where, depth)
        if simple is not None:
            return simple
        if id(v) in self.active:
            raise Unkeyable(where, f"a reference cycle through a {type(v).__name__}")
        self.active.add(id(v))
        try:
            return self._compound(v, where, depth + 1)
        finally:
            self.active.discard(id(v))

    def _simple(self, v: Any, where: str, depth: int) -> Any:
        if isinstance(v, enum.Enum):
            return ["enum", self.cls(type(v), where), v.name]
        if isinstance(v, type):
            return self.cls(v, where)
        if isinstance(v, types.ModuleType):
            return ["module", v.__name__, self.module(v.__name__, where)]
        if isinstance(v, types.FunctionType):
            return self.function(v, where)
        if isinstance(v, types.BuiltinFunctionType | np.ufunc):
            owner = getattr(v, "__self__", None)
            if owner is not None and not isinstance(owner, types.ModuleType):
                return ["builtin-method", v.__name__, self.walk(owner, f"{where}.__self__", depth)]
            modname = getattr(v, "__module__", None) or "numpy"
            return ["builtin", modname, v.__name__, self.module(modname.split(".")[0], where)]
        if isinstance(v, np.ndarray):
            if v.dtype == object:
                return ["ndarray", v.shape, self.walk(v.tolist(), where, depth)]
            a = np.ascontiguousarray(v)
            return ["ndarray", str(a.dtype), list(a.shape), _sha(a.tobytes())]
        return self._pandas(v, where, depth)

    def _pandas(self, v: Any, where: str, depth: int) -> Any:
        import pandas as pd

        if not isinstance(v, pd.DataFrame | pd.Series | pd.Index):
            return None
        h = hashlib.sha256()
        parts: list[Any] = (
            [v.index, *(v.iloc[:, j] for j in range(v.shape[1]))]
            if isinstance(v, pd.DataFrame)
            else [v] if isinstance(v, pd.Index) else [v.index, v]
        )  # fmt: skip
        for part in parts:
            h.update(f"{part.dtype}|{part.shape}".encode())
            a = part.to_numpy()
            if a.dtype.kind in "biufcmM":  # numbers and datetimes: their exact bits
                h.update(np.ascontiguousarray(a).tobytes())
                continue
            cells = self.walk(a.tolist(), f"{where} (cells)", depth + 1)  # objects: strictly
            h.update(json.dumps(cells, separators=(",", ":")).encode())
        meta = [repr(getattr(v, "name", None)), repr(getattr(getattr(v, "index", v), "freq", None))]
        if isinstance(v, pd.DataFrame):
            meta.append(self.walk(list(v.columns), f"{where}.columns", depth + 1))
        return [type(v).__name__, meta, h.hexdigest()]

    def _compound(self, v: Any, where: str, depth: int) -> Any:
        if isinstance(v, Mapping):
            items = [
                [self.walk(k, f"{where}[{k!r}]", depth), self.walk(x, f"{where}[{k!r}]", depth)]
                for k, x in v.items()
            ]
            tag = "dict" if type(v) is dict else self.cls(type(v), where)
            return ["mapping", tag, sorted(items, key=repr)]
        if isinstance(v, list | tuple):
            tag = type(v).__name__ if type(v) in (list, tuple) else self.cls(type(v), where)
            return [tag, [self.walk(x, f"{where}[{i}]", depth) for i, x in enumerate(v)]]
        if isinstance(v, set | frozenset):
            return ["set", sorted((self.walk(x, f"{where}{{}}", depth) for x in v), key=repr)]
        if isinstance(v, functools.partial):
            return ["partial", self.walk(v.func, f"{where}.func", depth),
                    self.walk(v.args, f"{where}.args", depth),
                    self.walk(v.keywords, f"{where}.keywords", depth)]  # fmt: skip
        if isinstance(v, types.MethodType):
            return ["method", self.walk(v.__func__, where, depth),
                    self.walk(v.__self__, f"{where}.__self__", depth)]  # fmt: skip
        if isinstance(v, np.random.Generator):
            return ["Generator", self.walk(v.bit_generator.state, f"{where}.state", depth)]
        custom = getattr(type(v), "__task_key__", None)
        if callable(custom):
            return ["object", self.cls(type(v), where), self.walk(custom(v), where, depth)]
        state = self._state(v, where)
        return ["object", self.cls(type(v), where),
                sorted([str(k), self.walk(x, f"{where}.{k}", depth)] for k, x in state.items())]  # fmt: skip

    @staticmethod
    def _state(v: Any, where: str) -> dict[str, Any]:
        """An object's attributes (scikit-learn style: parameters and public attributes)."""
        if is_dataclass(v):
            return {f.name: getattr(v, f.name) for f in fields(v)}
        attrs = dict(getattr(v, "__dict__", {}))
        for c in type(v).__mro__:
            for s in getattr(c, "__slots__", ()):
                if isinstance(s, str) and hasattr(v, s) and s not in ("__dict__", "__weakref__"):
                    attrs[s] = getattr(v, s)
        get_params = getattr(v, "get_params", None)
        if callable(get_params):
            try:
                params = dict(get_params())
            except Exception as exc:  # a user's get_params that fails cannot describe the object
                raise Unkeyable(where, f"get_params() raised {type(exc).__name__}: {exc}") from None
            public = {
                k: a for k, a in attrs.items() if not k.startswith("_") and not k.endswith("_")
            }
            return {**public, **params}
        if not attrs and not hasattr(v, "__dict__") and type(v).__module__ != "builtins":
            raise Unkeyable(
                where, f"an object of type {type(v).__qualname__} with no inspectable state"
            )
        if not attrs and type(v).__module__ == "builtins":
            raise Unkeyable(where, f"a {type(v).__qualname__}, which has no inspectable state")
        return attrs

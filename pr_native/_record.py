"""``Record``: the immutable value type of every result pr_native returns.

A record is a tuple subclass with one read-only property per field, so
building one is a single C call (``tuple.__new__``) on the hot path of a
polling daemon, and importing the package needs neither ``dataclasses`` nor
``typing``.  Fields are the annotations of the class body, in order; a field
with a value in the body has that default.  Records compare equal only to
records of the same class (never to plain tuples), hash, pickle, and repr as
``Name(field=value, ...)``.  Type checkers see them as frozen dataclasses
(``dataclass_transform``).

Subclasses declare ``__slots__ = ()``; ``_check()`` may validate the fields
(it runs in the keyword-friendly constructor, not in ``_make``).
"""

from __future__ import annotations

from operator import itemgetter

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time

if TYPE_CHECKING:
    from typing import Any, TypeVar

    from typing_extensions import Self, dataclass_transform

    _R = TypeVar("_R", bound="Record")
else:

    def dataclass_transform(**_: object) -> object:
        return lambda cls: cls


_MISSING = object()


def _hex(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"0x{value:x}"
    if isinstance(value, tuple):
        inner = ", ".join(_hex(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


@dataclass_transform(frozen_default=True)
class Record(tuple):  # type: ignore[type-arg]
    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _defaults: dict[str, object] = {}  # noqa: RUF012 (replaced, never mutated)
    _hex_fields: frozenset[str] = frozenset()
    """Fields shown in hex by repr(), as sg_persist prints keys."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # The class body's own annotations (strings, never evaluated).
        annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
        own = [n for n in annotations if not n.startswith("_")]
        start = len(cls._fields)
        defaults = dict(cls._defaults)
        for i, name in enumerate(own, start):
            default = cls.__dict__.get(name, _MISSING)
            if default is not _MISSING:
                defaults[name] = default
            setattr(cls, name, property(itemgetter(i), doc=f"Field {i}: {name}."))
        cls._fields = cls._fields + tuple(own)
        cls._defaults = defaults

    if not TYPE_CHECKING:

        def __new__(cls, *args, **kwargs):
            fields = cls._fields
            if len(args) > len(fields):
                raise TypeError(
                    f"{cls.__name__}() takes {len(fields)} arguments, {len(args)} given"
                )
            values = list(args)
            for name in fields[len(args) :]:
                if name in kwargs:
                    values.append(kwargs.pop(name))
                elif name in cls._defaults:
                    values.append(cls._defaults[name])
                else:
                    raise TypeError(f"{cls.__name__}() missing argument {name!r}")
            if kwargs:
                raise TypeError(f"{cls.__name__}() got unexpected arguments {sorted(kwargs)}")
            self = tuple.__new__(cls, values)
            self._check()
            return self

    @classmethod
    def _make(cls: type[_R], *values: Any) -> _R:
        """Build from field values in order, unchecked (the decoders' fast path)."""
        return tuple.__new__(cls, values)

    def _check(self) -> None:
        """Validate the fields; raise TypeError or ValueError."""

    def _replace(self, **changes: Any) -> Self:
        return type(self)(**{**dict(zip(self._fields, self)), **changes})

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = tuple.__hash__

    def __repr__(self) -> str:
        hex_fields = self._hex_fields
        inner = ", ".join(
            f"{n}={_hex(v) if n in hex_fields else repr(v)}" for n, v in zip(self._fields, self)
        )
        return f"{type(self).__name__}({inner})"

    def __getnewargs__(self) -> tuple[Any, ...]:
        return tuple(self)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

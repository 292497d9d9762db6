"""Registries by name: every space, benchmark, proxy, strategy and method is looked up here.

Registration is an explicit call, never a string if/elif factory, so `harness list` and the
tests can loop over everything that exists. On first use a registry loads its built-ins (those
registered at import, or by its `loader`), then every installed plugin (harness.plugins); a
name registered by user code before that is checked against the built-ins, never hides one. Each
name remembers where it came from (`origin`: "built-in", a plugin module, or the user module
that registered it) and its tags (e.g. "zero-cost"). `register_lazy` names an object by
"module:attribute", imported on first `get`: a registry lists torch-based proxies without
importing torch.

A family names many objects by one prefix: `register_family("optuna", builder, ...)` resolves
"optuna:<suffix>" through `builder(suffix)` on first `get` (the adapters that wrap every
sampler of a library), so `names()` does not enumerate a library's members, yet each member is
a name like any other (origin and tags are its family's). `archive(name, why)` marks a name
kept only for old runs: tagged "archived", and `harness list` says why.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from harness import HarnessError

T = TypeVar("T")
#: modules whose registrations are the harness's own
BUILT_IN = ("harness",)  # harness.baselines included


def origin_of(item: Any, caller: str | None = None) -> str:
    """Where an item comes from: "built-in" when the module that registers it (`caller`, else
    the item's own module) belongs to the harness or its baselines, else the plugin being
    loaded (`plugins.loading`), else that module.

    The registering module decides, not the item's type: a plugin registers harness types
    (a `Method`, a `ZeroCostProxy`) and is still the plugin, and the harness's own modules,
    when a plugin's import is what first imports them, stay built-in."""
    from harness import plugins

    module = caller or getattr(item, "__module__", None) or type(item).__module__
    if str(module).split(".")[0] in BUILT_IN:
        return "built-in"
    if plugins.loading is not None:
        return plugins.loading
    return str(module)


def _calling_module() -> str | None:
    """The module of the first frame outside this one (who called `register`)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back  # type: ignore[assignment]
    return None if frame is None else frame.f_globals.get("__name__")


@dataclass(frozen=True)
class Family:
    """Names "prefix:<suffix>" resolved by a builder.

    Attributes:
        prefix: What comes before the colon ("optuna").
        builder: `builder(suffix)` returns the object, raises LookupError (its message naming
            the valid suffixes) when `suffix` names nothing, or HarnessError (one line) when it
            names something unusable; a "module:attribute" string is imported on first use.
        pattern: How `harness list` shows the family ("optuna:<SamplerClass>").
        about: Where its members come from ("optuna.samplers").
        origin: "built-in", or the plugin or module that registered it.
        tags: The tags of every member.
    """

    prefix: str
    builder: Callable[[str], Any] | str
    pattern: str
    about: str
    origin: str
    tags: frozenset[str]


class Registry(Generic[T]):
    """A name -> object map that reports unknown names with the list of known ones."""

    def __init__(self, kind: str, loader: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._origins: dict[str, str] = {}
        self._tags: dict[str, frozenset[str]] = {}
        self._lazy: dict[str, str] = {}
        self._families: dict[str, Family] = {}
        self._members: dict[str, T] = {}  # family members built so far
        self._archived: dict[str, str] = {}
        self._loader = loader
        self._state = "new"  # -> "loading" -> "loaded"

    def _ensure_loaded(self) -> None:
        """Built-ins, then installed plugins, once; a loader that fails is retried next time
        (never a registry left half-filled and marked complete)."""
        if self._state != "new":
            return
        self._state = "loading"
        try:
            if self._loader is not None:
                self._loader()
            from harness import plugins

            plugins.load_entry_points()
        except BaseException:
            self._state = "new"
            raise
        self._state = "loaded"

    def register(self, name: str, item: T, tags: Iterable[str] = (), origin: str = "") -> T:
        """Add `name`; a name that exists is an error naming who registered it first. A
        registration from outside the harness loads the built-ins and plugins first, so a
        user's name never hides one (the harness's own, made while its modules import, do
        not: the registry's module may not have finished importing)."""
        origin = origin or origin_of(item, _calling_module())
        self._add(name, item, None, tags, origin)
        return item

    def register_lazy(self, name: str, target: str, tags: Iterable[str] = ()) -> None:
        """Add `name` for the object at "package.module:attribute", imported on first get."""
        self._add(name, None, target, tags, "built-in")

    def register_family(
        self,
        prefix: str,
        builder: Callable[[str], T] | str,
        pattern: str,
        about: str = "",
        tags: Iterable[str] = (),
    ) -> None:
        """Resolve every name "`prefix`:<suffix>" through `builder` (see `Family`); a string
        builder ("module:attribute") is built-in and imported on first use."""
        if isinstance(builder, str):
            origin = "built-in"
        else:
            origin = origin_of(builder, _calling_module())
            self._ensure_loaded()
        if prefix in self._families:
            raise HarnessError(
                f"{self.kind} family {prefix!r} is already registered "
                f"(by {self._families[prefix].origin})"
            )
        self._families[prefix] = Family(prefix, builder, pattern, about, origin, frozenset(tags))

    def families(self) -> list[Family]:
        """The registered families, in registration order."""
        self._ensure_loaded()
        return list(self._families.values())

    def archive(self, name: str, why: str) -> None:
        """Mark `name` (registered now or later) as kept for old runs only: tag "archived"."""
        self._archived[name] = why
        if name in self._tags:
            self._tags[name] = self._tags[name] | {"archived"}

    def archived(self, name: str) -> str | None:
        """Why `name` is archived, or None."""
        return self._archived.get(name)

    def _add(
        self, name: str, item: T | None, target: str | None, tags: Iterable[str], origin: str
    ) -> None:
        if origin != "built-in":
            self._ensure_loaded()
        family = self._family_of(name)
        if family is not None:
            raise HarnessError(
                f"{self.kind} name {name!r} belongs to the family {family.pattern} "
                f"(registered by {family.origin}): choose a name without {family.prefix + ':'!r}"
            )
        if name in self._lazy or (name in self._items and self._items[name] is not item):
            raise HarnessError(
                f"{self.kind} {name!r} is already registered (by {self._origins[name]})"
            )
        if target is not None:
            self._lazy[name] = target
        else:
            self._items[name] = item  # type: ignore[assignment]
        self._origins[name] = origin
        self._tags[name] = frozenset(tags) | ({"archived"} if name in self._archived else set())

    def unregister(self, name: str) -> None:
        """Remove a registration (tests; a notebook that redefines a proxy)."""
        self._ensure_loaded()
        for table in (self._items, self._lazy, self._origins, self._tags, self._members):
            table.pop(name, None)  # type: ignore[attr-defined]

    def get(self, name: str) -> T:
        self._ensure_loaded()
        if name in self._lazy:
            return self._resolve(name)
        if name in self._items:
            return self._items[name]
        family = self._family_of(name)
        if family is not None:
            return self._member(name, family)
        known = ", ".join(self.names())
        if self._families:
            known += "; families: " + ", ".join(f.pattern for f in self._families.values())
        raise HarnessError(f"unknown {self.kind} {name!r} (known: {known})")

    def _family_of(self, name: str) -> Family | None:
        prefix, colon, _ = name.partition(":")
        return self._families.get(prefix) if colon else None

    def _member(self, name: str, family: Family) -> T:
        if name in self._members:
            return self._members[name]
        builder = family.builder
        if isinstance(builder, str):
            import importlib

            module, _, attribute = builder.partition(":")
            builder = getattr(importlib.import_module(module), attribute)
        try:
            item: T = builder(name.partition(":")[2])  # type: ignore[operator]
        except LookupError as err:
            why = str(err.args[0]) if err.args else family.pattern
            raise HarnessError(f"unknown {self.kind} {name!r}: {why}") from None
        self._members[name] = item
        return item

    def _resolve(self, name: str) -> T:
        import importlib

        module, _, attribute = self._lazy[name].partition(":")
        item = getattr(importlib.import_module(module), attribute)
        self._items[name] = item
        del self._lazy[name]
        return item  # type: ignore[no-any-return]

    def origin(self, name: str) -> str:
        """ "built-in", or the plugin or module that registered `name`."""
        self._ensure_loaded()
        if name not in self._origins:
            family = self._family_of(name)
            self.get(name)  # the unknown-name error
            if family is not None:
                return family.origin
        return self._origins[name]

    def tagged(self, tag: str) -> list[str]:
        """Names carrying `tag`, in registration order (the order tables show them)."""
        self._ensure_loaded()
        return [n for n, tags in self._tags.items() if tag in tags]

    def names(self) -> list[str]:
        """Registered names, sorted (family members are not enumerated: see `families`)."""
        self._ensure_loaded()
        return sorted({*self._items, *self._lazy})

    def built_in(self) -> list[str]:
        """The harness's own names (sorted), without any plugin's: what its tables list and
        its tests check."""
        return [n for n in self.names() if self.origin(n) == "built-in"]

    def __contains__(self, name: object) -> bool:
        """A registered name, or a family member that resolves (its builder is called)."""
        self._ensure_loaded()
        if name in self._items or name in self._lazy:
            return True
        if not isinstance(name, str) or self._family_of(name) is None:
            return False
        try:
            self.get(name)
        except (HarnessError, ImportError):
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self) -> list[tuple[str, T]]:
        return [(n, self.get(n)) for n in self.names()]

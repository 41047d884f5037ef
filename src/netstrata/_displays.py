"""The plugin point between results and their pictures: a name -> display factory registry.

Results live in low layers (``ma`` is layer 2, ``nma`` layer 3) and must not import
``netstrata.present`` (layer 6), yet ``res.forest()`` should hand back a figure. So results ask
this module, which sits below every layer, for a display by *name*; ``netstrata.present`` fills
the registry when it is imported, and :func:`make_display` imports it by name on first use.

Names registered by ``netstrata.present`` (see ``netstrata/present/plugins.py``):

====================  ==========================================  ======================
name                  called as                                   returns
====================  ==========================================  ======================
``"forest"``          ``factory(pairwise_result, **kwargs)``      ``ForestDisplay``
``"network_forest"``  ``factory(network_result, **kwargs)``       ``ForestDisplay``
``"netgraph"``        ``factory(network_result, **kwargs)``       ``NetworkGraphDisplay``
``"league_table"``    ``factory(netleague_numbers, **kwargs)``    ``LeagueTableDisplay``
====================  ==========================================  ======================

Another package (or a test) can replace a picture by registering a factory under the same name,
before or after netstrata.present is imported (it never replaces an entry it finds)::

    from netstrata._displays import register_display
    register_display("forest", my_forest)      # my_forest(result, **kwargs) -> an object
"""
import importlib
from typing import Callable

from .errors import ParameterError

__all__ = ["register_display", "make_display", "registered_displays", "PROVIDER", "DisplayFactory"]

#: The module imported (by name, so no layer imports it) when a display is asked for.
PROVIDER = "netstrata.present"

#: ``factory(result, **kwargs) -> display``: what a name is registered with
DisplayFactory = Callable[..., object]

_FACTORIES: dict[str, DisplayFactory] = {}


def register_display(name: str, factory: DisplayFactory, *, replace: bool = True) -> None:
    """Register ``factory`` under ``name``; with ``replace=False`` an existing entry is kept."""
    if not callable(factory):
        raise ParameterError(f"register_display: the factory for {name!r} must be callable. "
                             f"Got {type(factory).__name__} instead.")
    if replace or name not in _FACTORIES:
        _FACTORIES[name] = factory


def registered_displays() -> tuple[str, ...]:
    """The names registered so far (empty until ``netstrata.present`` or a plugin is imported)."""
    return tuple(sorted(_FACTORIES))


def make_display(name: str, *args, **kwargs):
    """The display ``name`` made from ``args``; imports :data:`PROVIDER` on first use."""
    if name not in _FACTORIES:
        importlib.import_module(PROVIDER)
    try:
        factory = _FACTORIES[name]
    except KeyError:
        known = ", ".join(repr(n) for n in registered_displays()) or "none"
        raise ParameterError(f"No display is registered under {name!r} (registered: {known}).") from None
    return factory(*args, **kwargs)

"""Crisp: a metrics observability platform.

Data flows one way: protocol → batch → sink → WAL → buffer → files → query.
See docs/ARCHITECTURE.md for the layout.
"""

__version__ = "0.1.0"

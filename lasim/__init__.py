"""lasim: simulate how innovations scale through learning alliances."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lasim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

"""Build glue: the cffi extension.  Everything else lives in pyproject.toml."""

from setuptools import setup

setup(cffi_modules=["pr_native/_build.py:ffibuilder"])

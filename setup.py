"""Build glue: the cffi extension and the abi3 wheel tag.  Everything else
lives in pyproject.toml."""

import sysconfig

from setuptools import setup

# Tag the wheel cp39-abi3 (pr_native/_build.py compiles against the limited
# API), except on free-threaded CPython, which has no limited API.
abi3 = not sysconfig.get_config_var("Py_GIL_DISABLED")

setup(
    cffi_modules=["pr_native/_build.py:ffibuilder"],
    options={"bdist_wheel": {"py_limited_api": "cp39"}} if abi3 else {},
)

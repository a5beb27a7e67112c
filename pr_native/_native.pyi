# The compiled cffi module; its functions are declared in csrc/pr_native.h.
from typing import Any

ffi: Any
lib: Any

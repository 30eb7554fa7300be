"""Keep the emulator's freed heap memory for reuse instead of handing it back to the kernel.

A relayed response passes through buffers of a few hundred KiB each (every socket read of
asyncio is up to 256 KiB, h11's copies, the frames of each write), allocated and freed at once.
glibc's malloc returns the top of its heap to the kernel whenever more than ``M_TRIM_THRESHOLD``
bytes are free there, and by default that threshold only tracks the largest block freed so far
(twice it), so the heap shrank and grew again for nearly every piece, and each regrowth faulted
its pages in afresh: about 750 000 minor page faults per GiB relayed, more CPU time in the
kernel than the relay spent in Python.  Fixed thresholds (glibc ``mallopt(3)``, M_TRIM_THRESHOLD
and M_MMAP_THRESHOLD) bring that to a few hundred; the heap then holds on to its largest size
so far, a few MiB for the relay.  Elsewhere than glibc nothing is changed.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
"""``mallopt`` parameter numbers, from glibc's ``<malloc.h>``."""
TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024
"""Free bytes at the top of the heap before glibc gives them back to the kernel."""
MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024
"""Blocks at least this large get their own mapping; smaller ones come from the heap."""


def keep_freed_memory() -> bool:
    """Set this process's glibc malloc thresholds (see the module doc); return whether it could.

    Returns False, changing nothing, where the C library is not glibc.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):  # no C library found, or not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)) and bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    )

"""Process-wide TensorFlow settings hdrkeras makes before TF runs its first op.

TF's default CPU allocator hands every large tensor straight to malloc, which maps fresh
pages for each one and returns them on free: a 256x256 HDR-Transformer forward
page-faults about 60,000 times (250 MB of pages zeroed by the kernel) and spends a tenth
of its time there. TF's pooled (BFC) CPU allocator keeps freed blocks for reuse. It is
chosen when the CPU device is first created, so this must run before any TF op: importing
hdrkeras does it, and a user's own `TF_CPU_ALLOCATOR_USE_BFC` (e.g. `false`) wins.
"""

import os

# Environment variables TF reads when it creates the CPU allocator.
POOLED_ALLOCATOR_VAR = "TF_CPU_ALLOCATOR_USE_BFC"
POOL_LIMIT_VAR = "TF_CPU_BFC_MEM_LIMIT_IN_MB"


def physical_memory_mb():
    """Installed RAM in MiB, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1 << 20)
    except (AttributeError, OSError, ValueError):
        return None


def use_pooled_cpu_allocator(environ=os.environ):
    """Turns on TF's pooled CPU allocator unless the user chose otherwise.

    The pool's limit (TF's own default is 64 GiB) is set to the machine's RAM so a job
    that malloc could serve never fails for the pool's sake. Takes effect only if TF has
    not created its CPU device yet.
    """
    environ.setdefault(POOLED_ALLOCATOR_VAR, "true")
    ram_mb = physical_memory_mb()
    if ram_mb:
        environ.setdefault(POOL_LIMIT_VAR, str(ram_mb))

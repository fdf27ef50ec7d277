"""hdrkeras: HDR reconstruction from bracketed LDR photos and alternating-exposure video.

Data flows one way: io/ops -> data -> layers/models -> saving/tiling/convert -> methods ->
training/export -> inference and the command-line tools. A module imports only from the
layers before its own (docs/ARCHITECTURE.md; tests/test_architecture.py checks it).
"""

from hdrkeras.tf_runtime import use_pooled_cpu_allocator

use_pooled_cpu_allocator()

__version__ = "0.1.0"

"""hdrkeras: HDR reconstruction from bracketed LDR photos and alternating-exposure video.

Data flows one way: io -> data -> models/methods -> training/export -> reconstruct.
"""

from hdrkeras.tf_runtime import use_pooled_cpu_allocator

use_pooled_cpu_allocator()

__version__ = "0.1.0"

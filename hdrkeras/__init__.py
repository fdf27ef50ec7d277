"""hdrkeras: HDR reconstruction from bracketed LDR photos and alternating-exposure video.

Data flows one way: io -> data -> models/methods -> training/export -> reconstruct.
"""

__version__ = "0.1.0"

"""Image and exposure I/O. Every writer is atomic (see hdrkeras.io.atomic)."""

from hdrkeras.io.atomic import atomic_path, atomic_write_bytes, atomic_write_text
from hdrkeras.io.exposures import (exposures_from_exif, read_deephdrvideo_exposures,
                                   read_exposure_txt, validate_exposures)
from hdrkeras.io.hdr import read_hdr, write_hdr
from hdrkeras.io.images import read_ldr, write_ldr

__all__ = [
    "atomic_path", "atomic_write_bytes", "atomic_write_text", "exposures_from_exif",
    "read_deephdrvideo_exposures", "read_exposure_txt", "read_hdr", "read_ldr",
    "validate_exposures", "write_hdr", "write_ldr",
]

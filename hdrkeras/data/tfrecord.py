"""TFRecord framing: length headers, CRCs, scanning and verification of record files.

A TFRecord file is a sequence of frames
  uint64 length (LE) | uint32 masked CRC32C of the length | payload | uint32 masked CRC32C
  of the payload.
This module knows the frames and nothing about what the payloads mean (that is
hdrkeras.data.schema). Every failure names the file and, where it can, the record, so a
damaged shard is reported as such instead of as TensorFlow's bare DataLossError.
"""

import contextlib
import struct

from hdrkeras.errors import RecordError

HEADER_BYTES = 12   # length + its CRC
FOOTER_BYTES = 4    # payload CRC
_MASK_DELTA = 0xA282EAD8


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def masked_crc32c(data):
    """TFRecord's masked CRC32C of `data` (pure Python: for headers, not for payloads)."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def scan_records(path, *, first_payload=False):
    """Walks the framing (length headers only) without reading payloads.

    Returns (number of records, first payload bytes or None). Raises RecordError naming
    the file when it is empty, truncated or its framing is corrupt. Payload corruption is
    caught by TF's own CRC check when the records are read (see `verify_records`).
    """
    count, first = 0, None
    for index, _, length, payload in _frames(path, read_first=first_payload):
        if index == 0:
            first = payload
        count += 1
    if count == 0:
        raise RecordError(f"record file {path} holds no records")
    return count, first


def record_spans(path):
    """(byte offset of the header, payload length) of every record, in order."""
    return [(offset, length) for _, offset, length, _ in _frames(path)]


def _frames(path, read_first=False):
    import tensorflow as tf

    path = str(path)
    try:
        size = tf.io.gfile.stat(path).length
        f = open(path, "rb")
    except (OSError, tf.errors.OpError) as e:
        raise RecordError(f"cannot open record file {path}: {e}") from None
    pos, index = 0, 0
    with f:
        while pos < size:
            header = f.read(HEADER_BYTES)
            if len(header) < HEADER_BYTES:
                raise RecordError(f"record file {path} is truncated (partial header at byte {pos})")
            length, crc = struct.unpack("<QI", header)
            if masked_crc32c(header[:8]) != crc:
                raise RecordError(f"record file {path} is corrupt or not a TFRecord file "
                                  f"(bad length checksum of record {index} at byte {pos})")
            end = pos + HEADER_BYTES + length + FOOTER_BYTES
            if end > size:
                raise RecordError(f"record file {path} is truncated (record {index} needs "
                                  f"{end} bytes, file has {size})")
            payload = f.read(length) if read_first and index == 0 else None
            f.seek(end)
            yield index, pos, length, payload
            pos = end
            index += 1


def verify_records(path):
    """Reads every record through TF (payload CRCs) -> count; RecordError naming the file
    and the first damaged record otherwise."""
    import tensorflow as tf

    n = 0
    try:
        for _ in tf.data.TFRecordDataset(str(path)):
            n += 1
    except tf.errors.OpError as e:
        raise corrupt_record_error(path, n, e) from None
    return n


def corrupt_record_error(path, index, error=None):
    """The RecordError for record `index` of `path` failing TF's read (CRC mismatch...)."""
    detail = ""
    if error is not None:
        msg = getattr(error, "message", str(error)).strip().splitlines()
        detail = f" ({msg[0]})" if msg else ""
    return RecordError(f"record file {path}: record {index} is corrupt (its checksum does not "
                       f"match its bytes){detail}; rewrite the records with make_tfrecord")


def find_corrupt_record(paths):
    """First (path, record index, TF error) whose payload fails TF's CRC check, or None."""
    import tensorflow as tf

    for path in paths:
        n = 0
        try:
            for _ in tf.data.TFRecordDataset(str(path)):
                n += 1
        except tf.errors.OpError as e:
            return str(path), n, e
    return None


@contextlib.contextmanager
def read_errors(paths):
    """Turns TF's DataLossError met while reading `paths` (e.g. inside a training
    pipeline, where TF does not say which file) into a RecordError naming the shard and
    the record. Other errors pass through with their tracebacks.

    paths: list of record files, or a callable returning it (called only on an error, so
    entering the context costs nothing per step).
    """
    import tensorflow as tf

    try:
        yield
    except tf.errors.DataLossError:
        found = find_corrupt_record(paths() if callable(paths) else paths)
        if found is None:
            raise
        path, index, error = found
        raise corrupt_record_error(path, index, error) from None

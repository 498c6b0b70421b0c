"""lib0 binary encoding, the subset the Hocuspocus/y-protocols wire format uses.

Written here because pycrdt's Encoder writes a varString's character count instead of its UTF-8 byte
count (non-ASCII document names would corrupt frames) and its Decoder has no bounds checks.
"""

from __future__ import annotations

MAX_VAR_UINT_BYTES = 10  # 64-bit values; lib0 itself caps at 53 bits (JS safe integers)


class DecodeError(ValueError):
    """The bytes are truncated or malformed."""


class Encoder:
    def __init__(self) -> None:
        self._buffer = bytearray()

    def write_var_uint(self, value: int) -> Encoder:
        if value < 0:
            raise ValueError("varUint must be >= 0")
        while value > 0x7F:
            self._buffer.append(0x80 | (value & 0x7F))
            value >>= 7
        self._buffer.append(value)
        return self

    def write_var_uint8_array(self, data: bytes) -> Encoder:
        self.write_var_uint(len(data))
        self._buffer += data
        return self

    def write_var_string(self, text: str) -> Encoder:
        return self.write_var_uint8_array(text.encode("utf-8"))

    def write_bytes(self, data: bytes) -> Encoder:
        self._buffer += data
        return self

    def to_bytes(self) -> bytes:
        return bytes(self._buffer)


class Decoder:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0

    def has_more(self) -> bool:
        return self._position < len(self._data)

    def read_var_uint(self) -> int:
        value = 0
        for index in range(MAX_VAR_UINT_BYTES):
            if self._position >= len(self._data):
                raise DecodeError("truncated varUint")
            byte = self._data[self._position]
            self._position += 1
            value |= (byte & 0x7F) << (7 * index)
            if byte < 0x80:
                return value
        raise DecodeError("varUint too long")

    def read_var_uint8_array(self) -> bytes:
        length = self.read_var_uint()
        end = self._position + length
        if end > len(self._data):
            raise DecodeError(
                f"truncated varUint8Array: {length} bytes announced, {len(self._data) - self._position} left"
            )
        chunk = self._data[self._position : end]
        self._position = end
        return chunk

    def read_var_string(self) -> str:
        try:
            return self.read_var_uint8_array().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"varString is not UTF-8: {exc}") from None

    def read_rest(self) -> bytes:
        rest = self._data[self._position :]
        self._position = len(self._data)
        return rest

"""Turning plan bytes in any encoding Terraform users produce into UTF-8."""

from __future__ import annotations

import codecs

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: the UTF-32 LE BOM starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def to_utf8(data: bytes) -> bytes:
    """The same text as UTF-8 bytes; raises UnicodeDecodeError when it is not text at all.

    Windows PowerShell's `>` writes UTF-16 with a BOM; some editors add a UTF-8 BOM. JSON text starts
    with an ASCII character, so a NUL in the first two bytes without a BOM means BOM-less UTF-16.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec).encode("utf-8")
    if len(data) >= 2 and data[0] == 0 and data[1] != 0:
        return data.decode("utf-16-be").encode("utf-8")
    if len(data) >= 2 and data[1] == 0 and data[0] != 0:
        return data.decode("utf-16-le").encode("utf-8")
    data.decode("utf-8")  # validate: a stray Latin-1 byte is bad input, not something to guess at
    return data
